import { describe, it, expect } from 'vitest';
import { startSergo, send, sharedI64, metricName, flushMetrics } from './harness.ts';
import type { HttpStream } from '../../src/host/index.ts';

const KEY = 'sergo:ConcurrencyLimitStrategy:cl#c=8';
const concurrency = { id: 'cl', resource: '/c/{id}', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 8 } };

describe('ConcurrencyLimitStrategy (Local) across worker VMs', () => {
  it('admits 8 in flight, the 9th is blocked, a finished stream frees its slot', () => {
    const { host } = startSergo({ version: 1, rules: [concurrency] }, { vms: 2 });
    const open = Array.from({ length: 8 }, (_, i) => send(host, 'GET', `/c/${i}`, i % 2));
    expect(open.every((o) => o.result.action === 'continue')).toBe(true);
    expect(send(host, 'GET', '/c/x').result.action).toBe('local-response');
    expect(sharedI64(host, KEY)).toBe(8n);
    open[0].stream.responseHeaders([[':status', '200']]);
    open[0].stream.finish();
    expect(sharedI64(host, KEY)).toBe(7n);
    expect(send(host, 'GET', '/c/y').result.action).toBe('continue');
  });

  it('10,000 random lifecycles (resets, local replies, log-only contexts, a reload) → the count returns to exactly 0', () => {
    const rules = [
      concurrency,
      { id: 'rl', resource: '/c/{id}', strategy: { kind: 'RateLimit', threshold: 400, windowMs: 1000 } },
      { id: 'cb', resource: '/c/{id}', strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.3, statDurationMs: 2000, recoveryTimeoutMs: 300, minRequestAmount: 10 } },
    ];
    const { host, clock } = startSergo({ version: 1, rules }, { vms: 4 });
    // mulberry32: an LCG's low bits are too regular for `% n` choices.
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296 * n) | 0;
    };
    const live: { stream: HttpStream; forwarded: boolean }[] = [];
    let maxSeen = 0n;
    let blocked = 0;
    for (let i = 0; i < 10_000; i++) {
      if (i === 5000) expect(host.configure(JSON.stringify({ version: 1, rules: [...rules, { id: 'extra', resource: '/other', strategy: { kind: 'RateLimit', threshold: 1, windowMs: 1000 } }] }))).toBe(true);
      clock.advance(rand(3));
      const op = rand(10);
      if (op < 6 || live.length === 0) {
        if (rand(20) === 0) {
          // A context that only ever sees create + log (an earlier filter replied).
          const s = host.stream(rand(4));
          s.log(); s.done(); s.delete();
          continue;
        }
        const { stream, result } = send(host, 'GET', `/c/${i}`, rand(4));
        if (result.action === 'continue') live.push({ stream, forwarded: true });
        else { blocked++; stream.finish(); }
      } else {
        const [entry] = live.splice(rand(live.length), 1);
        const end = rand(8);
        if (end === 0) entry.stream.reset();                          // the client leaves before response headers
        else if (end === 1) { entry.stream.responseHeaders([[':status', '503']]); entry.stream.finish(); }
        else if (end === 2) {                                         // an upstream reset, as Envoy's router answers it
          entry.stream.responseHeaders([[':status', '503']], true, 'upstream_reset_before_response_started{connection_termination}');
          entry.stream.finish();
        }
        else { entry.stream.responseHeaders([[':status', '200']]); entry.stream.finish(); }
      }
      const count = sharedI64(host, KEY)!;
      expect(count).toBeGreaterThanOrEqual(0n);
      if (count > maxSeen) maxSeen = count;
    }
    for (const e of live) e.stream.reset();
    expect(maxSeen).toBe(8n);
    expect(blocked).toBeGreaterThan(0);
    flushMetrics(host);
    expect(host.metric(metricName('cl', '/c/{id}', 'ConcurrencyLimit', 'requests_blocked'))).toBeGreaterThan(0n);
    expect(host.metric(metricName('cb', '/c/{id}', 'CircuitBreaker', 'requests_blocked'))).toBeGreaterThan(0n);
    expect(sharedI64(host, KEY)).toBe(0n);
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
  });

  it('each of on_log, on_delete alone releases the slot exactly once (the module has no on_done: the host counts the stream done at once)', () => {
    const { host } = startSergo({ version: 1, rules: [concurrency] });
    const held = send(host, 'GET', '/c/1').stream;
    held.done();
    expect(sharedI64(host, KEY)).toBe(1n);
    held.finish();
    for (const call of ['log', 'delete'] as const) {
      const { stream } = send(host, 'GET', '/c/1');
      expect(sharedI64(host, KEY)).toBe(1n);
      stream[call]();
      expect(sharedI64(host, KEY)).toBe(0n);
      stream.finish();
      expect(sharedI64(host, KEY)).toBe(0n);
    }
  });
});
