import { describe, it, expect } from 'vitest';
import { startSergo, send, exchange, rateLimitRule, text, metricName, ruleBytes, flushMetrics } from './harness.ts';

const FALLBACK = { status: 429, body: 'Blocked by Sentinel', headers: [['X-Sentinel-Limit', 'foo'], ['retry-after', '1']] };

describe('RateLimitStrategy (Local) across worker VMs', () => {
  it('4 VMs, threshold 100: 1,000 interleaved requests in one window → exactly 100 admitted', () => {
    const { host, clock } = startSergo({ version: 1, rules: [rateLimitRule('ns/app/r/RateLimitStrategy/rl@/foo', '/foo', 100, 10_000, FALLBACK)] }, { vms: 4 });
    let admitted = 0;
    const open: ReturnType<typeof send>[] = [];
    for (let i = 0; i < 1000; i++) {
      // Interleave: each VM gets every 4th request, and streams overlap before they finish.
      const s = send(host, 'GET', '/foo', i % 4);
      open.push(s);
      if (s.result.action === 'continue') admitted++;
      else {
        expect(s.result.action).toBe('local-response');
        expect(s.result.localResponse!.status).toBe(429);
        expect(text(s.result.localResponse!.body)).toBe('Blocked by Sentinel');
        expect(s.result.localResponse!.additionalHeaders).toEqual([['x-sentinel-limit', 'foo'], ['retry-after', '1']]);
      }
      if (i % 7 === 0) clock.advance(1); // 1,000 requests spread over ~143 ms
      if (open.length > 16) { const o = open.shift()!; if (o.result.action === 'continue') o.stream.responseHeaders([[':status', '200']]); o.stream.finish(); }
    }
    expect(admitted).toBe(100);
    for (const o of open) o.stream.finish();
    flushMetrics(host);
    expect(host.metric(metricName('ns/app/r/RateLimitStrategy/rl@/foo', '/foo', 'RateLimit', 'requests_passed'))).toBe(100n);
    expect(host.metric(metricName('ns/app/r/RateLimitStrategy/rl@/foo', '/foo', 'RateLimit', 'requests_blocked'))).toBe(900n);
  });

  it('a 10 s window measured with the virtual clock, then the next window admits again', () => {
    const { host, clock } = startSergo({ version: 1, rules: [rateLimitRule('w', '/w', 3, 10_000)] }, { vms: 2 });
    const start = clock.nowMs();
    for (let i = 0; i < 3; i++) expect(exchange(host, 'GET', '/w', 200, i % 2).action).toBe('continue');
    expect(exchange(host, 'GET', '/w').action).toBe('local-response');
    clock.advance(9_999);
    expect(exchange(host, 'GET', '/w').action).toBe('local-response');
    clock.set(start + 10_000);   // still inside any window that holds the burst
    expect(exchange(host, 'GET', '/w').action).toBe('local-response');
    clock.set(start + 11_000);   // one bucket (W/10) after the window: the burst has left
    for (let i = 0; i < 3; i++) expect(exchange(host, 'GET', '/w', 200, i % 2).action).toBe('continue');
    expect(exchange(host, 'GET', '/w').action).toBe('local-response');
  });

  it('never admits more than the threshold in any window under steady traffic', () => {
    const windowMs = 1000;
    const { host, clock } = startSergo({ version: 1, rules: [rateLimitRule('s', '/s', 20, windowMs)] }, { vms: 3 });
    const admittedAt: number[] = [];
    for (let t = 0; t < 5000; t += 7) {
      clock.set(1_767_225_600_000 + t);
      if (exchange(host, 'GET', '/s', 200, t % 3).action === 'continue') admittedAt.push(t);
    }
    let maxInWindow = 0;
    for (let i = 0; i < admittedAt.length; i++) {
      let j = i;
      while (j < admittedAt.length && admittedAt[j] - admittedAt[i] < windowMs) j++;
      maxInWindow = Math.max(maxInWindow, j - i);
    }
    expect(maxInWindow).toBeLessThanOrEqual(20);
    expect(admittedAt.length).toBeGreaterThanOrEqual(80); // ≥ 20 per 1.1 s over 5 s
  });

  it('threshold 0 blocks everything; the default fallback is 429 naming the strategy', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('zero', '/z', 0, 1000)] });
    const r = exchange(host, 'GET', '/z');
    expect(r.action).toBe('local-response');
    expect(r.localResponse!.status).toBe(429);
    expect(text(r.localResponse!.body)).toBe('Blocked by sergo: RateLimitStrategy\n'); // no rule id (issue 12)
    expect(r.localResponse!.additionalHeaders).toEqual([['content-type', 'text/plain; charset=utf-8']]);
  });

  it('a request blocked by a later rule gives back the count it took', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('a', '/x', 2, 1000), rateLimitRule('b', '/x', 1, 1000)] });
    expect(exchange(host, 'GET', '/x').action).toBe('continue');       // a:1 b:1
    expect(exchange(host, 'GET', '/x').action).toBe('local-response');  // a took 2, b blocks → a back to 1
    expect(exchange(host, 'GET', '/x').action).toBe('local-response');
    // a still has room for one more: prove it with a rule set where only a applies.
    const a = ruleBytes(host, 'sergo:RateLimitStrategy:a#t=2,w=1000')!;
    const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
    let total = 0;
    for (let off = 0; off < a.byteLength; off += 12) total += view.getUint32(off + 8, true);
    expect(total).toBe(1);
  });
});
