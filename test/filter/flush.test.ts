// requests_passed / requests_blocked are counted in the VM and handed to the host on the worker's
// tick (assembly/metrics.ts): no metric call per request, one increment per metric per flush, and
// a scrape sees a count at most METRICS_FLUSH_MS after the request that made it. A rule's metrics
// are defined when it first needs one, not at configure time.
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
    expect(host.metric(PASSED)).toBeUndefined();           // defined with the rule's first flush
    host.advance(METRICS_FLUSH_MS - 1);
    expect(host.metric(PASSED)).toBeUndefined();
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

  it('a configuration defines only the filter-wide metrics; a rule\'s appear with its first flushed count', () => {
    const rules = Array.from({ length: 50 }, (_, i) => rateLimitRule(`r${i}`, `/r${i}`, 5, 60_000));
    const { host } = startSergo({ version: 1, rules }, { recordCalls: true });
    expect(host.calls.filter((c) => c.name.endsWith('proxy_define_metric')).length).toBe(4);   // cas_exhausted, config_*, queue_overflow
    exchange(host, 'GET', '/r7');
    host.advance(METRICS_FLUSH_MS);
    expect(host.metric(metricName('r7', '/r7', 'RateLimit', 'requests_passed'))).toBe(1n);
    expect(host.metric(metricName('r7', '/r7', 'RateLimit', 'requests_blocked'))).toBe(0n);
    expect(host.metric(metricName('r8', '/r8', 'RateLimit', 'requests_passed'))).toBeUndefined();
  });

  it('sergo.config_accepted counts a configuration once, however many VMs load it', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/r', 5, 60_000)] }, { vms: 3 });
    expect(host.metric('sergo.config_accepted')).toBe(1n);
    expect(host.configure(JSON.stringify({ version: 1, rules: [rateLimitRule('rl', '/r', 6, 60_000)] }))).toBe(true);
    expect(host.metric('sergo.config_accepted')).toBe(2n);
    expect(host.configure(JSON.stringify({ version: 1, rules: [rateLimitRule('rl', '/r', 5, 60_000)] }))).toBe(true);
    expect(host.metric('sergo.config_accepted')).toBe(3n);     // a push back to the first: a new push
  });
});
