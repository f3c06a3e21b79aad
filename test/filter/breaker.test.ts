import { describe, it, expect } from 'vitest';
import { startSergo, send, exchange } from './harness.ts';
import { metricName } from './harness.ts';
import type { ProxyWasmHost } from '../../src/host/index.ts';

const errorBreaker = (extra: Record<string, unknown> = {}) => ({
  id: 'cb', resource: '/b',
  strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.6, statDurationMs: 10_000, recoveryTimeoutMs: 5_000, minRequestAmount: 5, ...extra },
});
const state = (host: ProxyWasmHost) => host.metric(metricName('cb', '/b', 'CircuitBreaker', 'breaker_state'));
const transitions = (host: ProxyWasmHost, from: string, to: string) =>
  host.metric(`sergo.sergo_rule=.=cb;.;sergo_resource=.=/b;.;sergo_strategy=.=CircuitBreaker;.;sergo_from=.=${from};.;sergo_to=.=${to};.;breaker_transitions`);

describe('CircuitBreakerStrategy', () => {
  it('its state gauge and a counter for each of the four transitions exist from the start, at 0', () => {
    const { host } = startSergo({ version: 1, rules: [errorBreaker()] });
    expect(state(host)).toBe(0n);
    for (const [from, to] of [['closed', 'open'], ['open', 'half_open'], ['half_open', 'closed'], ['half_open', 'open']]) {
      expect(transitions(host, from!, to!), `${from} → ${to}`).toBe(0n);
    }
    // the state machine has no other transition: no counter that could never move
    expect(transitions(host, 'closed', 'half_open')).toBeUndefined();
    expect(transitions(host, 'open', 'closed')).toBeUndefined();
  });

  it('total = minRequestAmount − 1 never trips, even at 100 % errors', () => {
    const { host } = startSergo({ version: 1, rules: [errorBreaker()] });
    for (let i = 0; i < 4; i++) expect(exchange(host, 'GET', '/b', 500).action).toBe('continue');
    expect(exchange(host, 'GET', '/b', 200).action).toBe('continue');  // 5th: 4/5 = 0.8 ≥ 0.6 → trips now
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
  });

  it('a ratio exactly equal to triggerRatio trips; just below does not', () => {
    const below = startSergo({ version: 1, rules: [errorBreaker({ triggerRatio: 0.7, minRequestAmount: 10 })] }).host;
    for (let i = 0; i < 10; i++) exchange(below, 'GET', '/b', i < 6 ? 500 : 200);   // 6/10 < 0.7
    expect(exchange(below, 'GET', '/b').action).toBe('continue');
    const equal = startSergo({ version: 1, rules: [errorBreaker({ triggerRatio: 0.7, minRequestAmount: 10 })] }).host;
    for (let i = 0; i < 10; i++) exchange(equal, 'GET', '/b', i < 7 ? 500 : 200);   // 7/10 = 0.7
    expect(exchange(equal, 'GET', '/b').action).toBe('local-response');
    expect(state(equal)).toBe(1n);
    expect(transitions(equal, 'closed', 'open')).toBe(1n);
  });

  it('after recoveryTimeout exactly one probe passes across 4 VMs; its success closes and resets', () => {
    const { host, clock } = startSergo({ version: 1, rules: [errorBreaker()] }, { vms: 4 });
    for (let i = 0; i < 5; i++) exchange(host, 'GET', '/b', 503, i % 4);
    expect(exchange(host, 'GET', '/b', 200, 1).action).toBe('local-response');
    clock.advance(4_999);
    expect(exchange(host, 'GET', '/b', 200, 2).action).toBe('local-response');
    clock.advance(1);
    const attempts = [0, 1, 2, 3, 0, 1, 2, 3].map((vm) => send(host, 'GET', '/b', vm));
    const passed = attempts.filter((a) => a.result.action === 'continue');
    expect(passed.length).toBe(1);
    expect(state(host)).toBe(2n);
    for (const a of attempts) if (a.result.action !== 'continue') a.stream.finish();
    passed[0].stream.responseHeaders([[':status', '200']]);
    passed[0].stream.finish();
    expect(state(host)).toBe(0n);
    expect(transitions(host, 'half_open', 'closed')).toBe(1n);
    // Statistics were reset: 4 errors are below minRequestAmount again.
    for (let i = 0; i < 4; i++) expect(exchange(host, 'GET', '/b', 500, i % 4).action).toBe('continue');
    expect(exchange(host, 'GET', '/b', 200).action).toBe('continue');
  });

  it('a failed probe reopens with a new deadline', () => {
    const { host, clock } = startSergo({ version: 1, rules: [errorBreaker()] }, { vms: 2 });
    for (let i = 0; i < 5; i++) exchange(host, 'GET', '/b', 500);
    clock.advance(5_000);
    expect(exchange(host, 'GET', '/b', 502).action).toBe('continue');   // the probe fails
    expect(state(host)).toBe(1n);
    expect(transitions(host, 'half_open', 'open')).toBe(1n);
    clock.advance(4_000);
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
    clock.advance(1_000);
    expect(exchange(host, 'GET', '/b', 200).action).toBe('continue');
    expect(state(host)).toBe(0n);
  });

  it('an upstream reset before response headers is an error; blocked requests are not counted', () => {
    const { host, clock } = startSergo({ version: 1, rules: [errorBreaker()] });
    // In Envoy an upstream reset reaches the filter as the router's 503 (a client that leaves, a
    // bare stream reset, is not an upstream error: semantics.test.ts).
    for (let i = 0; i < 5; i++) {
      const { stream } = send(host, 'GET', '/b');
      stream.responseHeaders([[':status', '503']], true, 'upstream_reset_before_response_started{connection_termination}');
      stream.finish();
    }
    for (let i = 0; i < 50; i++) expect(exchange(host, 'GET', '/b').action).toBe('local-response');
    clock.advance(5_000);
    expect(exchange(host, 'GET', '/b', 200).action).toBe('continue');
    // After closing, the 50 blocked requests left no trace: 4 errors do not trip.
    for (let i = 0; i < 4; i++) exchange(host, 'GET', '/b', 500);
    expect(exchange(host, 'GET', '/b', 200).action).toBe('continue');
  });

  it('SlowRequestRatio: response time from forwarding to response headers above maxAllowedRt is slow', () => {
    const rule = { id: 'cb', resource: '/b', strategy: { kind: 'CircuitBreaker', mode: 'SlowRequestRatio', triggerRatio: 0.6, statDurationMs: 30_000, recoveryTimeoutMs: 5_000, minRequestAmount: 5, maxAllowedRtMs: 500 } };
    const { host, clock } = startSergo({ version: 1, rules: [rule] });
    const timed = (ms: number) => {
      const { stream, result } = send(host, 'GET', '/b');
      clock.advance(ms);
      if (result.action === 'continue') stream.responseHeaders([[':status', '500']]);
      stream.finish();
      return result.action;
    };
    timed(500); timed(500); timed(500);     // exactly maxAllowedRt is not slow, even with 500s
    timed(501); timed(900);                 // 2/5 slow
    expect(timed(10)).toBe('continue');
    timed(600);                             // 3/7 < 0.6
    timed(700); timed(800);                 // 5/9 < 0.6
    expect(timed(1000)).toBe('continue');   // 6/10 = 0.6 → trips
    expect(timed(1)).toBe('local-response');
  });

  it('errorStatus (translator extension) decides what an error is', () => {
    const { host } = startSergo({ version: 1, rules: [errorBreaker({ errorStatus: [[429, 429], [503, 504]] })] });
    for (let i = 0; i < 10; i++) exchange(host, 'GET', '/b', 500);
    expect(exchange(host, 'GET', '/b', 429).action).toBe('continue');   // 1/11
    for (let i = 0; i < 20; i++) exchange(host, 'GET', '/b', i % 2 ? 503 : 504);
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
  });

  it("Envoy's router replies to an upstream failure (response.code_details) are errors whatever errorStatus says", () => {
    const { host } = startSergo({ version: 1, rules: [errorBreaker({ errorStatus: [[500, 500]] })] });
    const upstreamFails = (status: number, details: string) => {
      const { stream, result } = send(host, 'GET', '/b');
      expect(result.action).toBe('continue');
      stream.responseHeaders([[':status', String(status)]], true, details);
      stream.finish();
    };
    // The upstream's own 503/504 are not errors here; 5 of them make the total.
    for (let i = 0; i < 5; i++) upstreamFails(503 + (i % 2), 'via_upstream');
    expect(exchange(host, 'GET', '/b').action).toBe('continue');
    // Connection failures, resets and timeouts, with the details Envoy's router sets (1.36, and the
    // older upstream_response_timeout): the 9th makes 9 bad of 15 = triggerRatio 0.6.
    const failures: Array<[number, string]> = [
      [503, 'upstream_reset_before_response_started{connection_termination}'],
      [503, 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}'],
      [504, 'response_timeout'], [504, 'upstream_per_try_timeout'], [504, 'upstream_response_timeout'],
      [503, 'upstream_max_stream_duration_reached'], [503, 'upstream_reset_before_response_started{overflow}'],
      [503, 'upstream_reset_before_response_started{remote_reset}'], [504, 'response_timeout'],
    ];
    for (const [status, details] of failures.slice(0, -1)) upstreamFails(status, details);
    expect(state(host)).toBe(0n);
    upstreamFails(...failures.at(-1)!);
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
    expect(state(host)).toBe(1n);
  });

  it('a local reply of another filter (not an upstream failure) counts by its status only', () => {
    const { host } = startSergo({ version: 1, rules: [errorBreaker({ errorStatus: [[500, 500]] })] });
    for (let i = 0; i < 20; i++) {
      const { stream } = send(host, 'GET', '/b');
      stream.responseHeaders([[':status', '503']], true, 'fault_filter_abort');
      stream.finish();
    }
    expect(exchange(host, 'GET', '/b').action).toBe('continue');
    expect(state(host)).toBe(0n);
  });
});
