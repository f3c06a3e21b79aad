// requests_passed / requests_blocked are counted in the VM and handed to the host on the worker's
// tick (assembly/metrics.ts): no metric call per request, one increment per metric per flush, and
// a scrape sees a count at most METRICS_FLUSH_MS after the request that made it.
import { describe, it, expect } from 'vitest';
import { startSergo, exchange, rateLimitRule, metricName } from './harness.ts';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';

const PASSED = metricName('rl', '/r', 'RateLimit', 'requests_passed');
const BLOCKED = metricName('rl', '/r', 'RateLimit', 'requests_blocked');

describe('request counts flushed on the worker tick', () => {
  it('no metric call per request; the counts arrive in one increment each, FLUSH_MS after the first', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/r', 5, 60_000)] }, { recordCalls: true });
    host.calls.length = 0;
    for (let i = 0; i < 8; i++) exchange(host, 'GET', '/r');
    expect(host.calls.filter((c) => c.name.endsWith('proxy_increment_metric'))).toEqual([]);
    expect(host.metric(PASSED)).toBe(0n);                  // defined at configure, not yet flushed
    host.advance(METRICS_FLUSH_MS - 1);
    expect(host.metric(PASSED)).toBe(0n);
    host.advance(1);
    expect(host.metric(PASSED)).toBe(5n);
    expect(host.metric(BLOCKED)).toBe(3n);
    expect(host.calls.filter((c) => c.name.endsWith('proxy_increment_metric')).length).toBe(2);
    expect(host.vms[0]!.tickPeriodMs).toBe(0);              // nothing pending: the tick stops
  });

  it('counts made after a flush wait for the next one; each VM flushes its own', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/r', 100, 60_000)] }, { vms: 2 });
    exchange(host, 'GET', '/r', 200, 0);
    host.advance(METRICS_FLUSH_MS);
    expect(host.metric(PASSED)).toBe(1n);
    exchange(host, 'GET', '/r', 200, 0);
    exchange(host, 'GET', '/r', 200, 1);
    expect(host.metric(PASSED)).toBe(1n);
    host.advance(METRICS_FLUSH_MS);
    expect(host.metric(PASSED)).toBe(3n);
  });
});
