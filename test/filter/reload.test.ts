// A reload costs nothing per rule it keeps. It takes over the metrics of every rule it keeps (same id, resource and kind, so the same
// metric names) instead of defining them again: Envoy adds an id to the VM for every define and never
// frees one (source/extensions/common/wasm/context.cc, Context::defineMetric), so redefining every
// rule at every push would grow each worker without end. src/host numbers defines the same way.
// And it does not read the record of a resource whose layout it had already: this VM made sure of
// it then, and shared-data keys are never deleted.
import { describe, it, expect } from 'vitest';
import type { ProxyWasmHost } from '../../src/host/index.ts';
import { startSergo, send, exchange, rateLimitRule, metricName, flushMetrics } from './harness.ts';

const breaker = (id: string, resource: string, triggerRatio = 0.5) => ({
  id, resource,
  strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio, statDurationMs: 10_000, recoveryTimeoutMs: 5_000, minRequestAmount: 5 },
});
const throttling = (id: string, resource: string, intervalMs = 100) => ({
  id, resource, strategy: { kind: 'Throttling', intervalMs, queueTimeoutMs: 1_000 },
});

function defines(host: ProxyWasmHost): number {
  return host.calls.filter((c) => c.name === 'env.proxy_define_metric').length;
}
/** The metric ids the VM incremented, by call. */
function incrementedIds(host: ProxyWasmHost): number[] {
  return host.calls.filter((c) => c.name === 'env.proxy_increment_metric').map((c) => Number(c.args[0]));
}
function configure(host: ProxyWasmHost, rules: unknown[]): void {
  expect(host.configure(JSON.stringify({ version: 1, rules }))).toBe(true);
}

describe('a reload of kept rules', () => {
  it('a reload of the same rules defines nothing: counts go on under the same ids', () => {
    const rules = [rateLimitRule('rl', '/r', 100, 60_000), breaker('cb', '/b'), throttling('th', '/t')];
    const { host } = startSergo({ version: 1, rules }, { recordCalls: true });
    host.calls.length = 0;
    exchange(host, 'GET', '/r');
    exchange(host, 'GET', '/b');
    flushMetrics(host);
    const before = new Set(incrementedIds(host));
    expect(before.size).toBe(2);                            // rl's and cb's requests_passed
    host.calls.length = 0;
    configure(host, rules);
    expect(defines(host)).toBe(0);
    exchange(host, 'GET', '/r');
    exchange(host, 'GET', '/b');
    flushMetrics(host);
    expect(new Set(incrementedIds(host))).toEqual(before);
    expect(defines(host)).toBe(0);
    expect(host.metric(metricName('rl', '/r', 'RateLimit', 'requests_passed'))).toBe(2n);
    expect(host.metric(metricName('cb', '/b', 'CircuitBreaker', 'requests_passed'))).toBe(2n);
  });

  it('a changed threshold keeps the names, so the metrics; a changed resource or a new rule defines its own', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('rl', '/r', 100, 60_000), breaker('cb', '/b')] }, { recordCalls: true });
    exchange(host, 'GET', '/r');
    flushMetrics(host);
    host.calls.length = 0;
    // rl: new threshold (new state, same names); cb: moved to another resource; cb2: new.
    configure(host, [rateLimitRule('rl', '/r', 50, 60_000), breaker('cb', '/b2', 0.7), breaker('cb2', '/c')]);
    expect(defines(host)).toBe(10);                         // the two breakers' state gauge and 4 transitions each
    exchange(host, 'GET', '/r');
    flushMetrics(host);
    expect(defines(host)).toBe(10);                         // rl's requests_passed / requests_blocked were kept
    expect(host.metric(metricName('rl', '/r', 'RateLimit', 'requests_passed'))).toBe(2n);
    expect(host.metric(metricName('cb', '/b2', 'CircuitBreaker', 'breaker_state'))).toBe(0n);
  });

  it('a strategy of another kind under the same id and resource defines its own metrics', () => {
    const { host } = startSergo({ version: 1, rules: [throttling('x', '/x')] }, { recordCalls: true });
    exchange(host, 'GET', '/x');
    flushMetrics(host);
    host.calls.length = 0;
    configure(host, [rateLimitRule('x', '/x', 100, 60_000)]);
    exchange(host, 'GET', '/x');
    flushMetrics(host);
    expect(defines(host)).toBe(2);
    expect(host.metric(metricName('x', '/x', 'RateLimit', 'requests_passed'))).toBe(1n);
    expect(host.metric(metricName('x', '/x', 'Throttling', 'requests_passed'))).toBe(1n);
  });

  it('a kept throttling rule keeps its queue metrics: a paused request after the reload defines none', () => {
    const { host } = startSergo({ version: 1, rules: [throttling('th', '/t', 100)] }, { recordCalls: true });
    /** One request passes, the next waits for its slot and is released by the tick. */
    const paceTwo = (intervalMs: number) => {
      exchange(host, 'GET', '/t');
      const waiting = send(host, 'GET', '/t');
      expect(waiting.result.action).toBe('pause');
      host.advance(intervalMs);
      waiting.stream.responseHeaders([[':status', '200']]);
      waiting.stream.finish();
      flushMetrics(host);
    };
    paceTwo(100);
    expect(host.metric(metricName('th', '/t', 'Throttling', 'requests_dequeued'))).toBe(1n);
    host.calls.length = 0;
    configure(host, [throttling('th', '/t', 200)]);
    host.advance(1_000);
    paceTwo(200);
    expect(defines(host)).toBe(0);
    expect(host.metric(metricName('th', '/t', 'Throttling', 'requests_queued'))).toBe(2n);
    expect(host.metric(metricName('th', '/t', 'Throttling', 'requests_dequeued'))).toBe(2n);
  });

  it('a local RateLimit made Global under the same id and resource keeps requests_*, defines the service metrics', async () => {
    const service = { cluster: 'sergo_rls', authority: 'rls.local', timeoutMs: 20 };
    const ok = () => Promise.resolve({ headers: [[':status', '200']] as [string, string][], body: '{"overallCode":"OK"}' });
    const { host } = startSergo({ version: 1, rateLimitService: service, rules: [rateLimitRule('g', '/g', 100, 1_000)] },
      { recordCalls: true, httpCallHandler: ok });
    exchange(host, 'GET', '/g');
    flushMetrics(host);
    host.calls.length = 0;
    const global = { id: 'g', resource: '/g', strategy: { kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 1_000 } };
    expect(host.configure(JSON.stringify({ version: 1, rateLimitService: service, rules: [global] }))).toBe(true);
    const { stream, result } = send(host, 'GET', '/g');
    expect(result.action).toBe('pause');
    await host.whenIdle();
    expect(stream.resumeCount).toBe(1);
    stream.responseHeaders([[':status', '200']]);
    stream.finish();
    flushMetrics(host);
    expect(defines(host)).toBe(4);                          // rls ok / over_limit / errors / failed_open
    expect(host.metric(metricName('g', '/g', 'RateLimit', 'requests_passed'))).toBe(2n);
    expect(host.metric(metricName('g', '/g', 'RateLimit', 'rls_ok'))).toBe(1n);
  });

  it('reads only the records whose layout changed; kept rules keep their state', () => {
    const rules = [rateLimitRule('a', '/a', 3, 60_000), rateLimitRule('b', '/b', 3, 60_000), breaker('c', '/c')];
    const { host } = startSergo({ version: 1, rules }, { recordCalls: true });
    for (let i = 0; i < 3; i++) exchange(host, 'GET', '/a');
    expect(exchange(host, 'GET', '/a').action).toBe('local-response');
    const shared = () => host.calls.filter((c) => c.name.includes('shared_data')).map((c) => c.name.replace('env.proxy_', ''));
    host.calls.length = 0;
    // Besides the records, a configure reads the digest of the last configuration counted in
    // config_accepted (state/once.ts), and writes it when it is another.
    configure(host, rules);
    expect(shared()).toEqual(['get_shared_data']);
    host.calls.length = 0;
    configure(host, [rules[0], rateLimitRule('b', '/b', 4, 60_000), rules[2]]);
    // /b's record (a section for the new threshold), then the digest.
    expect(shared()).toEqual(['get_shared_data', 'set_shared_data', 'get_shared_data', 'set_shared_data']);
    expect(exchange(host, 'GET', '/a').action).toBe('local-response');   // a's window, kept
    for (let i = 0; i < 4; i++) expect(exchange(host, 'GET', '/b').action).toBe('continue');
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
  });

  it('a breaker given new parameters starts closed, and its state gauge says so at once; a kept one stays open', () => {
    const tripping = (id: string, resource: string, triggerRatio: number) => ({
      id, resource, strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio, statDurationMs: 10_000, recoveryTimeoutMs: 5_000, minRequestAmount: 2 },
    });
    const gauge = (id: string, resource: string) => host.metric(metricName(id, resource, 'CircuitBreaker', 'breaker_state'));
    const { host } = startSergo({ version: 1, rules: [tripping('cb', '/b', 0.5), tripping('kept', '/k', 0.5)] }, { vms: 2 });
    for (const path of ['/b', '/k']) {
      exchange(host, 'GET', path, 500, 0);
      exchange(host, 'GET', path, 500, 1);
      expect(exchange(host, 'GET', path).action).toBe('local-response');
    }
    expect([gauge('cb', '/b'), gauge('kept', '/k')]).toEqual([1n, 1n]);
    configure(host, [tripping('cb', '/b', 0.6), tripping('kept', '/k', 0.5)]);
    expect([gauge('cb', '/b'), gauge('kept', '/k')]).toEqual([0n, 1n]);   // before any request
    expect(exchange(host, 'GET', '/b').action).toBe('continue');
    expect(exchange(host, 'GET', '/k').action).toBe('local-response');
  });
});
