// CAS contention between worker VMs. In one Node thread VMs never interleave inside a decision, so
// a store that plays "another worker" writes to the key between the guest's get and its set: the
// guest's cas is then stale (CAS_MISMATCH) and it must read again. Bounded retries, a counted and
// configurable policy on exhaustion, and give-backs that try much harder (DESIGN §3, issue 3).
import { describe, it, expect } from 'vitest';
import { SharedDataStore } from '../../src/host/index.ts';
import { startSergo, send, exchange, sharedI64, rateLimitRule, text } from './harness.ts';

/** Before each guest set of a watched key, another "worker" rewrites the value (same bytes, new cas). */
class ContendedStore extends SharedDataStore {
  interfere = 0;            // how many of the next sets to disturb
  interfered = 0;
  constructor(private readonly watched: (key: string) => boolean) { super(); }
  override set(vmId: string, key: string, value: Uint8Array, cas: number, owned = false): number {
    if (this.interfere > 0 && cas !== 0 && this.watched(key)) {
      const current = this.get(vmId, key);
      if (current) {
        super.set(vmId, key, current.value, 0);   // the other worker's write
        this.interfere--;
        this.interfered++;
      }
    }
    return super.set(vmId, key, value, cas, owned);
  }
}

const CONCURRENCY = { id: 'cl', resource: '/c', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 2 } };
const KEY = 'sergo:ConcurrencyLimitStrategy:cl#c=2';
/** The record of resource /c, which holds the rule's state (assembly/state/packed.ts). */
const RECORD = 'sergo:/c';

describe('shared-data CAS contention', () => {
  it('lost races are retried with a fresh read: decisions stay exact', () => {
    const store = new ContendedStore((k) => k === RECORD);
    const { host } = startSergo({ version: 1, rules: [CONCURRENCY] }, { vms: 2, sharedData: store });
    store.interfere = 10;     // the next decisions each lose a few races
    const a = send(host, 'GET', '/c', 0);
    const b = send(host, 'GET', '/c', 1);
    const c = send(host, 'GET', '/c', 0);
    expect([a.result.action, b.result.action, c.result.action]).toEqual(['continue', 'continue', 'local-response']);
    expect(store.interfered).toBeGreaterThan(0);
    expect(sharedI64(host, KEY)).toBe(2n);
    expect(host.metric('sergo.cas_exhausted') ?? 0n).toBe(0n);
  });

  it('when every attempt loses, the request is blocked by default and the event is counted', () => {
    const store = new ContendedStore((k) => k === 'sergo:/r');
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/r', 100, 1000, { status: 503, body: 'busy' })] }, { sharedData: store });
    store.interfere = 1_000_000;
    const r = exchange(host, 'GET', '/r');
    expect(r.action).toBe('local-response');
    expect(text(r.localResponse!.body)).toBe('busy');
    expect(store.interfered).toBe(16);                   // options.casRetries default
    expect(host.metric('sergo.cas_exhausted')).toBe(1n);
  });

  it('options.onCasExhausted "allow" admits instead — still counted; casRetries bounds the attempts', () => {
    const store = new ContendedStore((k) => k === 'sergo:/r');
    const { host } = startSergo({ version: 1, options: { onCasExhausted: 'allow', casRetries: 4 }, rules: [rateLimitRule('rl', '/r', 100, 1000)] }, { sharedData: store });
    store.interfere = 1_000_000;
    expect(exchange(host, 'GET', '/r').action).toBe('continue');
    expect(store.interfered).toBe(4);
    expect(host.metric('sergo.cas_exhausted')).toBe(1n);
  });

  it('give-backs get more attempts than decisions, so capacity does not leak', () => {
    const store = new ContendedStore((k) => k === RECORD);
    const { host } = startSergo({ version: 1, rules: [CONCURRENCY] }, { sharedData: store });
    const { stream } = send(host, 'GET', '/c');
    expect(sharedI64(host, KEY)).toBe(1n);
    store.interfere = 100;                               // more than a decision's 16 attempts
    stream.responseHeaders([[':status', '200']]);
    stream.finish();
    expect(store.interfered).toBe(100);
    expect(sharedI64(host, KEY)).toBe(0n);
  });
});

