// All four strategies on one resource, each blocking in turn: a blocked request consumes nothing
// from the others (DESIGN §3: reservations already taken are rolled back).
import { describe, it, expect } from 'vitest';
import { startSergo, send, exchange, sharedI64, ruleBytes } from './harness.ts';

function rules(o: { threshold?: number; queueTimeoutMs?: number; maxConcurrency?: number } = {}) {
  return {
    version: 1,
    rules: [
      { id: 'rl', resource: '/all', strategy: { kind: 'RateLimit', threshold: o.threshold ?? 1000, windowMs: 60_000 }, fallback: { status: 429, body: 'rl' } },
      { id: 'th', resource: '/all', strategy: { kind: 'Throttling', intervalMs: 10, queueTimeoutMs: o.queueTimeoutMs ?? 1000 }, fallback: { status: 503, body: 'th' } },
      { id: 'cl', resource: '/all', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: o.maxConcurrency ?? 100 }, fallback: { status: 503, body: 'cl' } },
      { id: 'cb', resource: '/all', strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 60_000, recoveryTimeoutMs: 60_000, minRequestAmount: 2 }, fallback: { status: 503, body: 'cb' } },
    ],
  };
}
const RL = 'sergo:RateLimitStrategy:rl#t=1000,w=60000';
const TH = 'sergo:ThrottlingStrategy:th#i=10,q=1000';
const CL = 'sergo:ConcurrencyLimitStrategy:cl#c=2';
const body = (r: ReturnType<typeof exchange>) => new TextDecoder().decode(r.localResponse?.body);
function rlCount(host: Parameters<typeof sharedI64>[0], key = RL): number {
  const v = ruleBytes(host, key)!;
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  let n = 0;
  for (let off = 0; off < v.byteLength; off += 12) n += view.getUint32(off + 8, true);
  return n;
}

describe('the check chain: rate limit → throttling → concurrency → circuit breaker', () => {
  it('rate limit blocks first: the later strategies are never reached', () => {
    const { host } = startSergo(rules({ threshold: 1 }));
    expect(exchange(host, 'GET', '/all').action).toBe('continue');
    const slot = sharedI64(host, TH);
    const r = exchange(host, 'GET', '/all');
    expect(body(r)).toBe('rl');
    expect(sharedI64(host, TH)).toBe(slot);
  });

  it('throttling blocks: the rate-limit count is given back', () => {
    const { host } = startSergo(rules({ queueTimeoutMs: 1 }));
    const first = send(host, 'GET', '/all');
    expect(first.result.action).toBe('continue');
    expect(rlCount(host)).toBe(1);
    const r = send(host, 'GET', '/all').result;   // next slot is 10 ms away > 1 ms
    expect(new TextDecoder().decode(r.localResponse?.body)).toBe('th');
    expect(rlCount(host)).toBe(1);
  });

  it('concurrency blocks: rate-limit count and pacing slot are given back', () => {
    const { host, clock } = startSergo(rules({ maxConcurrency: 2 }));
    const a = send(host, 'GET', '/all');
    clock.advance(10);
    const b = send(host, 'GET', '/all');
    expect([a.result.action, b.result.action]).toEqual(['continue', 'continue']);
    clock.advance(10);
    const slotBefore = sharedI64(host, TH);
    const r = send(host, 'GET', '/all').result;
    expect(new TextDecoder().decode(r.localResponse?.body)).toBe('cl');
    expect(rlCount(host)).toBe(2);
    expect(sharedI64(host, TH)).toBe(slotBefore);
    expect(sharedI64(host, CL)).toBe(2n);
  });

  it('the breaker blocks (open): rate limit, pacing slot and concurrency slot are all given back', () => {
    const { host, clock } = startSergo(rules({ maxConcurrency: 2 }));
    exchange(host, 'GET', '/all', 500); clock.advance(10);
    exchange(host, 'GET', '/all', 500); clock.advance(10);     // 2/2 errors → open
    const slotBefore = sharedI64(host, TH);
    const r = exchange(host, 'GET', '/all');
    expect(body(r)).toBe('cb');
    expect(rlCount(host)).toBe(2);
    expect(sharedI64(host, TH)).toBe(slotBefore);
    expect(sharedI64(host, CL)).toBe(0n);
  });
});
