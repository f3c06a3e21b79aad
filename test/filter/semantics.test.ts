// The four behaviours where sergo differed from Sentinel in ways a migrating user would trip on
// (issue 18), each with a virtual clock through src/host. docs/semantics.md explains each row.
// Every test here failed with the module before the fix: run them against another build with
// SERGO_TEST_WASM=/path/to/sergo.wasm.
import { describe, it, expect } from 'vitest';
import { startSergo, send, exchange, sharedI64, metricName, EPOCH_MS, flushMetrics } from './harness.ts';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';
import type { HttpStream, ProxyWasmHost } from '../../src/host/index.ts';

/** assembly/strategies/breaker.ts PROBE_LOST_MS: 5 min, the longest a request waits for its response in Envoy. */
const PROBE_LOST_MS = 300_000;

const breaker = (id: string, resource: string, extra: Record<string, unknown> = {}) => ({
  id, resource, fallback: { status: 503, body: `${id} open` },
  strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 1000, recoveryTimeoutMs: 1000, minRequestAmount: 1, ...extra },
});
const throttling = (id: string, resource: string, intervalMs: number, queueTimeoutMs: number) => ({
  id, resource, strategy: { kind: 'Throttling', intervalMs, queueTimeoutMs }, fallback: { status: 429, body: `${id} paced` },
});
const state = (host: ProxyWasmHost, id: string, resource: string) => host.metric(metricName(id, resource, 'CircuitBreaker', 'breaker_state'));
const body = (s: HttpStream) => s.localResponse?.bodyText;

/** A VM whose module trapped: Envoy never calls its streams again, so they can never end. */
function failVm(host: ProxyWasmHost, vm: number): void {
  host.vms[vm]!.trap(new Error('the test fails this VM'), 'test');
}

describe('one probe means one probe (issue 18.1)', () => {
  /** Trips the breaker at t = 0 and starts the probe at t = 1000 on `vm`; returns the probe's stream. */
  function probeInFlight(host: ProxyWasmHost, clock: { advance(ms: number): void }, vm = 0): HttpStream {
    expect(exchange(host, 'GET', '/b', 500, vm).action).toBe('continue');   // 1/1 errors: open
    clock.advance(1000);
    const probe = send(host, 'GET', '/b', vm);
    expect(probe.result.action).toBe('continue');
    return probe.stream;
  }

  it('while the probe is in flight every other request is blocked, however long it takes; its answer decides', () => {
    const { host, clock } = startSergo({ version: 1, rules: [breaker('cb', '/b')] }, { vms: 2 });
    const probe = probeInFlight(host, clock);
    // Before: a second probe at 3000 (recoveryTimeout + statDuration after the first), a third at 5000.
    for (const at of [2999, 3000, 5000, 60_000, 1000 + PROBE_LOST_MS - 1]) {
      clock.advance(at - (clock.nowMs() - EPOCH_MS));
      for (const vm of [0, 1]) expect(exchange(host, 'GET', '/b', 200, vm).action, `at ${at} on VM ${vm}`).toBe('local-response');
    }
    expect(state(host, 'cb', '/b')).toBe(2n);
    probe.responseHeaders([[':status', '200']]);
    probe.finish();
    expect(state(host, 'cb', '/b')).toBe(0n);
    expect(exchange(host, 'GET', '/b', 200, 1).action).toBe('continue');
  });

  it('a probe whose client leaves before the response is over, without an outcome: the next request probes', () => {
    const { host, clock } = startSergo({ version: 1, rules: [breaker('cb', '/b')] });
    const probe = probeInFlight(host, clock);
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
    probe.reset();
    expect(state(host, 'cb', '/b')).toBe(1n);                 // open again, not closed (no outcome)
    const next = send(host, 'GET', '/b');
    expect(next.result.action).toBe('continue');               // at once: no new recoveryTimeout
    expect(exchange(host, 'GET', '/b').action).toBe('local-response');
    next.stream.responseHeaders([[':status', '200']]);
    next.stream.finish();
    expect(state(host, 'cb', '/b')).toBe(0n);
  });

  it(`only a probe whose VM failed is replaced, ${PROBE_LOST_MS / 60_000} minutes after it started`, () => {
    const { host, clock } = startSergo({ version: 1, rules: [breaker('cb', '/b')] }, { vms: 2 });
    probeInFlight(host, clock, 0);
    failVm(host, 0);                                           // the probe's stream can never end now
    clock.advance(PROBE_LOST_MS - 1);
    expect(exchange(host, 'GET', '/b', 200, 1).action).toBe('local-response');
    clock.advance(1);
    const replacement = send(host, 'GET', '/b', 1);
    expect(replacement.result.action).toBe('continue');
    expect(exchange(host, 'GET', '/b', 200, 1).action).toBe('local-response');   // one probe again
    replacement.stream.responseHeaders([[':status', '200']]);
    replacement.stream.finish();
    expect(state(host, 'cb', '/b')).toBe(0n);
  });

  it('a replaced probe that ends after all does not decide for its replacement', () => {
    const { host, clock } = startSergo({ version: 1, rules: [breaker('cb', '/b')] }, { vms: 2 });
    const lost = probeInFlight(host, clock, 0);
    clock.advance(PROBE_LOST_MS);
    const replacement = send(host, 'GET', '/b', 1);
    expect(replacement.result.action).toBe('continue');
    lost.responseHeaders([[':status', '200']]);                // the old probe's success is stale…
    lost.finish();
    expect(state(host, 'cb', '/b')).toBe(2n);
    replacement.stream.responseHeaders([[':status', '500']]);  // …the current probe decides
    replacement.stream.finish();
    expect(state(host, 'cb', '/b')).toBe(1n);
  });
});

describe('checks after the pacing step run when the request is released (issue 18.2)', () => {
  it('a breaker that opened while requests waited refuses them when they are released, and they give their slots back', () => {
    const rules = [throttling('th', '/p', 100, 500), breaker('cb', '/p')];
    const { host, clock } = startSergo({ version: 1, rules });
    const a = send(host, 'GET', '/p');
    const b = send(host, 'GET', '/p');
    const c = send(host, 'GET', '/p');
    expect([a.result.action, b.result.action, c.result.action]).toEqual(['continue', 'pause', 'pause']);
    clock.advance(50);
    a.stream.responseHeaders([[':status', '500']]);            // 1/1 errors: the breaker opens at 50
    a.stream.finish();
    host.advance(50);                                          // B's slot (100)
    expect(b.stream.resumeCount).toBe(0);                      // never forwarded to the failing upstream
    expect(body(b.stream)).toBe('cb open');
    host.advance(100);                                         // C's slot (200)
    expect(c.stream.resumeCount).toBe(0);
    expect(body(c.stream)).toBe('cb open');
    // C held the last slot handed out (200) and gave it back; B's (100) was no longer the last.
    expect(sharedI64(host, 'sergo:ThrottlingStrategy:th#i=100,q=500')).toBe(BigInt(EPOCH_MS + 100));
    flushMetrics(host);
    expect(host.metric(metricName('cb', '/p', 'CircuitBreaker', 'requests_blocked'))).toBe(2n);
    expect(host.metric(metricName('th', '/p', 'Throttling', 'requests_dequeued'))).toBe(2n);
  });

  it('a waiting request holds no concurrency slot: it takes one when it is released', () => {
    const rules = [throttling('th', '/p', 100, 500), { id: 'cl', resource: '/p', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 1 }, fallback: { status: 503, body: 'cl full' } }];
    const { host, clock } = startSergo({ version: 1, rules });
    const a = send(host, 'GET', '/p');
    const b = send(host, 'GET', '/p');
    expect([a.result.action, b.result.action]).toEqual(['continue', 'pause']);   // before: B refused at 0
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=1')).toBe(1n);
    clock.advance(50);
    a.stream.responseHeaders([[':status', '200']]);
    a.stream.finish();
    host.advance(50);
    expect(b.stream.resumeCount).toBe(1);                      // released at 100 into the free slot
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=1')).toBe(1n);
    // Released while the slot is taken: refused then, with the concurrency fallback.
    const c = send(host, 'GET', '/p');
    expect(c.result.action).toBe('pause');
    host.advance(100);
    expect(c.stream.resumeCount).toBe(0);
    expect(body(c.stream)).toBe('cl full');
    b.stream.responseHeaders([[':status', '200']]);
    b.stream.finish();
    expect(sharedI64(host, 'sergo:ConcurrencyLimitStrategy:cl#c=1')).toBe(0n);
  });

  it('two pacing rules wait one after the other, each within its own queueTimeout', () => {
    const rules = [throttling('slow', '/p', 400, 1000), throttling('fast', '/p', 100, 150)];
    const { host, clock } = startSergo({ version: 1, rules });
    expect(send(host, 'GET', '/p').result.action).toBe('continue');   // slots 0 and 0
    const second = send(host, 'GET', '/p');                            // slow: 400; fast then: max(400, 100)
    expect(second.result.action).toBe('pause');
    let at = 0;
    second.stream.onResume = () => { at = clock.nowMs() - EPOCH_MS; };
    host.advance(400);
    expect(at).toBe(400);
    // Reserving both slots at arrival would have made it wait 400 ms for the fast rule's slot 100.
    expect(sharedI64(host, 'sergo:ThrottlingStrategy:fast#i=100,q=150')).toBe(BigInt(EPOCH_MS + 400));
  });
});

describe('a client that leaves is not an upstream error (issue 18.3)', () => {
  it('ErrorRequestRatio: requests whose clients disconnect before response headers are not counted', () => {
    const { host } = startSergo({ version: 1, rules: [breaker('cb', '/b', { minRequestAmount: 2 })] });
    for (let i = 0; i < 2; i++) {
      const { stream, result } = send(host, 'GET', '/b');
      expect(result.action).toBe('continue');
      stream.reset();                                          // the client leaves: Envoy resets the stream
    }
    expect(state(host, 'cb', '/b')).toBe(0n);
    expect(exchange(host, 'GET', '/b').action).toBe('continue');
    // An upstream reset reaches the filter as the router's 503 and is counted: 1 of 2, open.
    const { stream } = send(host, 'GET', '/b');
    stream.responseHeaders([[':status', '503']], true, 'upstream_reset_before_response_started{remote_reset}');
    stream.finish();
    expect(state(host, 'cb', '/b')).toBe(1n);
  });

  it('SlowRequestRatio: a client that leaves after maxAllowedRt was waiting for a slow response; one that leaves earlier says nothing', () => {
    const rule = breaker('cb', '/b', { mode: 'SlowRequestRatio', maxAllowedRtMs: 100, triggerRatio: 1, minRequestAmount: 2 });
    const { host, clock } = startSergo({ version: 1, rules: [rule] });
    const leaveAfter = (ms: number) => {
      const { stream, result } = send(host, 'GET', '/b');
      expect(result.action).toBe('continue');
      clock.advance(ms);
      stream.reset();
    };
    leaveAfter(50);
    leaveAfter(50);                                            // before: 2 fast requests counted
    leaveAfter(150);
    expect(state(host, 'cb', '/b')).toBe(0n);                  // 1 slow of 1: below minRequestAmount
    leaveAfter(150);                                           // 2 slow of 2: open (before: 2 of 4)
    expect(state(host, 'cb', '/b')).toBe(1n);
  });
});

describe('never wait longer than queueTimeout (issue 18.4)', () => {
  it('7 requests at t = 30 ms with 100 ms / 500 ms: 6 released exactly at their slots (the last after 500 ms), 1 refused', () => {
    const { host, clock } = startSergo({ version: 1, rules: [throttling('th', '/p', 100, 500)] });
    clock.advance(30);
    const released: number[] = [];
    const actions: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { stream, result } = send(host, 'GET', '/p');
      actions.push(result.action);
      if (result.action === 'continue') released.push(30);
      stream.onResume = () => released.push(clock.nowMs() - EPOCH_MS);
    }
    expect(actions).toEqual(['continue', 'pause', 'pause', 'pause', 'pause', 'pause', 'local-response']);
    host.advance(1000);
    // Before: resumes on the tick grid (every 100 ms from the VM's start), the last at 600 (570 ms).
    expect(released).toEqual([30, 130, 230, 330, 430, 530]);
  });

  it('the worker ticks only while requests wait (or their counts wait for the flush)', () => {
    const { host } = startSergo({ version: 1, rules: [throttling('th', '/p', 100, 500)] });
    expect(host.vms[0]!.tickPeriodMs).toBe(0);                 // before: ticking every 100 ms from the start
    send(host, 'GET', '/p');
    send(host, 'GET', '/p');
    expect(host.vms[0]!.tickPeriodMs).toBe(100);
    host.advance(200);
    expect(host.vms[0]!.tickPeriodMs).toBe(METRICS_FLUSH_MS - 100);   // armed for the flush of the counts, at 1,000
    host.advance(METRICS_FLUSH_MS);
    expect(host.vms[0]!.tickPeriodMs).toBe(0);
  });
});
