// One shared-data record per resource (assembly/state/packed.ts): every stateful rule of a resource
// has a section of it, found by the identity of its state key, so a rule keeps its state whatever
// happens to the other rules of its resource — across reloads, and across workers that are between
// two configurations.
import { describe, it, expect } from 'vitest';
import { SharedDataStore } from '../../src/host/index.ts';
import { startSergo, send, exchange, sharedI64, rateLimitRule } from './harness.ts';
import { findSection } from '../support/records.ts';

const concurrency = (id: string, max: number) => ({ id, resource: '/x', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: max } });
const throttling = { id: 'th', resource: '/x', strategy: { kind: 'Throttling', intervalMs: 0, queueTimeoutMs: 10 } };

describe('one record per resource', () => {
  it('holds every stateful rule of the resource, each in its own section', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/x', 3, 60_000), concurrency('cl', 5), throttling] });
    expect(exchange(host, 'GET', '/x').action).toBe('continue');
    const keys = ['sergo:RateLimitStrategy:rl#t=3,w=60000', 'sergo:ConcurrencyLimitStrategy:cl#c=5', 'sergo:ThrottlingStrategy:th#i=0,q=10'];
    const records = keys.map((k) => findSection(host.sharedData, k)?.recordKey);
    expect(records).toEqual(['sergo:/x', 'sergo:/x', 'sergo:/x']);
    expect(host.sharedData.keys().filter((k) => k.startsWith('sergo:/'))).toEqual(['sergo:/x']);
    expect(host.sharedData.keys().filter((k) => k.includes('Strategy:'))).toEqual([]);
  });

  it('a reload that changes one rule of a resource keeps the state of the others', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/x', 3, 60_000), concurrency('cl', 5)] });
    const held = [send(host, 'GET', '/x'), send(host, 'GET', '/x')];
    expect(held.map((h) => h.result.action)).toEqual(['continue', 'continue']);
    expect(host.configure(JSON.stringify({ version: 1, rules: [rateLimitRule('rl', '/x', 3, 60_000), concurrency('cl', 6), throttling] }))).toBe(true);
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=6')).toBe(0n);    // a changed rule starts afresh
    expect(exchange(host, 'GET', '/x').action).toBe('continue');                     // the rate limit's third
    expect(exchange(host, 'GET', '/x').action).toBe('local-response');               // 3 in the window already
    // The streams of the old configuration give back their slots to the old rule's section, which
    // the new layout no longer has: nothing of the new configuration's state moves.
    for (const h of held) { h.stream.responseHeaders([[':status', '200']]); h.stream.finish(); }
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=6')).toBe(0n);
  });

  it('workers between two configurations share the sections they have in common, and keep each other\'s', () => {
    const store = new SharedDataStore();
    const old = startSergo({ version: 1, rules: [rateLimitRule('rl', '/x', 4, 60_000), concurrency('cl', 5)] }, { sharedData: store }).host;
    const neu = startSergo({ version: 1, rules: [rateLimitRule('rl', '/x', 4, 60_000), throttling] }, { sharedData: store }).host;
    const a = send(old, 'GET', '/x');          // the new worker's on_configure compacted the record: the old worker appends its section
    expect(a.result.action).toBe('continue');
    expect(exchange(neu, 'GET', '/x').action).toBe('continue');
    expect(exchange(old, 'GET', '/x').action).toBe('continue');
    expect(exchange(neu, 'GET', '/x').action).toBe('continue');
    expect(exchange(old, 'GET', '/x').action).toBe('local-response');   // 4 admitted across both
    expect(exchange(neu, 'GET', '/x').action).toBe('local-response');
    expect(sharedI64(old, 'sergo:ConcurrencyLimitStrategy:cl#c=5')).toBe(1n);    // kept through the new worker's writes
    a.stream.responseHeaders([[':status', '200']]);
    a.stream.finish();
    expect(sharedI64(old, 'sergo:ConcurrencyLimitStrategy:cl#c=5')).toBe(0n);
  });

  it('a record is created in zeros by on_configure (before a request could race another worker), then every edit is a CAS write', () => {
    const sets: { key: string; cas: number }[] = [];
    class Recording extends SharedDataStore {
      override set(vmId: string, key: string, value: Uint8Array, cas: number, owned = false): number {
        sets.push({ key, cas });
        return super.set(vmId, key, value, cas, owned);
      }
    }
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/x', 3, 60_000), concurrency('cl', 5)] }, { vms: 2, sharedData: new Recording() });
    expect(host.sharedData.keys().filter((k) => k.startsWith('sergo:/'))).toEqual(['sergo:/x']);   // on_configure created it
    const created = sets.filter((s) => s.key === 'sergo:/x').length;
    expect(created).toBe(1);                                          // by the first VM; the second found it
    expect(exchange(host, 'GET', '/x', 200, 1).action).toBe('continue');
    expect(exchange(host, 'GET', '/x', 200, 0).action).toBe('continue');
    expect(exchange(host, 'GET', '/x', 200, 0).action).toBe('continue');
    expect(exchange(host, 'GET', '/x', 200, 1).action).toBe('local-response');   // 3 across both VMs
    const record = sets.filter((s) => s.key === 'sergo:/x');
    expect(record[0]!.cas).toBe(0);                                   // the creation, of zeros
    expect(record.slice(1).every((s) => s.cas !== 0)).toBe(true);    // then only CAS writes
    expect(record.length).toBe(created + 3 * 2);                      // each admitted request: its check, its release
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=5')).toBe(0n);
  });
});
