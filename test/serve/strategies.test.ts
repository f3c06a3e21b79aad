// sergo serve end to end over loopback: every strategy enforced by build/sergo.wasm through src/host,
// with real sockets and real timers.
import { describe, expect, it } from 'vitest';
import { allSections } from '../support/records.ts';
import {
  abortAfter, docs, prometheus, request, rule, sample, serveFor, sleep, startUpstream, strategy, waitFor, workspace,
  type Served, type TestUpstream, type Workspace, closeAfterEach
} from './helpers.ts';

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let served: Served | undefined;
closeAfterEach();


async function setup(rules: string, vms = 2) {
  ws = workspace();
  up = await startUpstream();
  served = await serveFor({ rules: [ws.file('rules.yaml', rules)], upstream: up.url, vms });
  return { up, served, base: served.base };
}

describe('sergo serve: strategies over real sockets', () => {
  it('rate limit: requests beyond the threshold get the fallback status, headers and body; limits hold across VMs', async () => {
    const { base, up } = await setup(
      docs(
        strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 3\nstatDurationSeconds: 60'),
        strategy(
          'HttpRequestFallbackAction',
          'fb',
          `behavior: ReturnProvidedResponse
behaviorDesc:
  responseStatusCode: 418
  responseContentBody: '{"limited":true}'
  responseAdditionalHeaders:
    - key: Content-Type
      value: application/json
    - key: X-Limited-By
      value: sergo`,
        ),
        rule('r', 'GET:/ok', ['rl'], 'fb'),
      ),
      3,
    );
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push(await request(base, '/ok')); // a new connection each: VMs 0, 1, 2, 0…
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 418, 418, 418, 418, 418]);
    expect(replies[0]!.body).toBe('ok');
    const blocked = replies[3]!;
    expect(blocked.body).toBe('{"limited":true}');
    expect(blocked.headers['content-type']).toBe('application/json');
    expect(blocked.headers['x-limited-by']).toBe('sergo');
    expect(blocked.headers['content-length']).toBe('16');
    expect(up.hits.length).toBe(3); // blocked requests never reach the upstream
    // other methods and paths are not limited
    expect((await request(base, '/ok', { method: 'POST', body: 'x' })).status).toBe(200);
    expect((await request(base, '/other')).status).toBe(200);
  });

  it('circuit breaker: opens on a failing endpoint, answers with the fallback, recovers after recoveryTimeout', async () => {
    const { base, up, served } = await setup(
      docs(
        strategy(
          'CircuitBreakerStrategy',
          'cb',
          "strategy: ErrorRequestRatio\ntriggerRatio: '50%'\nstatDuration: 30s\nrecoveryTimeout: 1s\nminRequestAmount: 4",
        ),
        strategy('HttpRequestFallbackAction', 'down', 'behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 503\n  responseContentBody: resting'),
        rule('r', '/flaky', ['cb'], 'down'),
      ),
    );
    up.failing = true;
    for (let i = 0; i < 4; i++) expect((await request(base, '/flaky')).status).toBe(500);
    const open = await request(base, '/flaky');
    expect(open.status).toBe(503);
    expect(open.body).toBe('resting');
    expect(up.hits.length).toBe(4);
    await waitFor('the transition to be logged', () => served.logs.some((l) => l.includes('closed → open')));
    expect(served.logs.find((l) => l.includes('closed → open'))).toMatch(/^sergo serve: warn: circuit breaker default\/app\/r\/CircuitBreakerStrategy\/cb@\/flaky: closed → open\n$/);
    let text = await prometheus(served);
    expect(sample(text, 'sergo_breaker_state', { sergo_strategy: 'CircuitBreaker' })).toBe(1);
    await waitFor('the blocked count to be flushed (METRICS_FLUSH_MS)', () => served.serve.ruleStats()[0]?.blocked === 1);
    expect(served.serve.ruleStats()[0]).toMatchObject({ kind: 'CircuitBreaker', breakerState: 'open', blocked: 1 });

    up.failing = false;
    await sleep(1100);
    const probe = await request(base, '/flaky');
    expect(probe.status).toBe(200);
    expect((await request(base, '/flaky')).status).toBe(200);
    await waitFor('recovery to be logged', () => served.logs.some((l) => l.includes('half_open → closed')));
    expect(served.logs.some((l) => l.includes('open → half_open'))).toBe(true);
    text = await prometheus(served);
    expect(sample(text, 'sergo_breaker_state', { sergo_strategy: 'CircuitBreaker' })).toBe(0);
    expect(sample(text, 'sergo_breaker_transitions', { sergo_from: 'half_open', sergo_to: 'closed' })).toBe(1);
  });

  it('throttling: parallel requests are paced by minIntervalOfRequests on real timers', async () => {
    const { base, up } = await setup(
      docs(strategy('ThrottlingStrategy', 'pace', 'minIntervalOfRequests: 100ms\nqueueTimeout: 3s'), rule('r', '/ok', ['pace'])),
    );
    const n = 6;
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: n }, () => request(base, '/ok')));
    const took = performance.now() - t0;
    expect(replies.every((r) => r.status === 200)).toBe(true);
    // (n - 1) intervals at least, minus a generous allowance for timer granularity
    const arrivals = up.hits.map((h) => h.at).sort((a, b) => a - b);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual((n - 1) * 100 - 60);
    const completions = replies.map((r) => r.ms).sort((a, b) => a - b);
    expect(completions.at(-1)! - completions[0]!).toBeGreaterThanOrEqual((n - 1) * 100 - 80);
    expect(took).toBeLessThan(10_000);
  });

  it('throttling: a request that cannot get a slot within queueTimeout is refused at once', async () => {
    const { base } = await setup(
      docs(strategy('ThrottlingStrategy', 'pace', 'minIntervalOfRequests: 1s\nqueueTimeout: 500ms'), rule('r', '/ok', ['pace'])),
    );
    const replies = await Promise.all([request(base, '/ok'), request(base, '/ok'), request(base, '/ok')]);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429, 429]);
    const refused = replies.filter((r) => r.status === 429);
    for (const r of refused) expect(r.body).toContain('Throttling');
  });

  it('throttling: clients that give up while queued leave the queue and never reach the upstream', async () => {
    const { base, up, served } = await setup(
      docs(strategy('ThrottlingStrategy', 'pace', 'minIntervalOfRequests: 400ms\nqueueTimeout: 5s'), rule('r', '/ok', ['pace'])),
    );
    const first = request(base, '/ok'); // takes the first slot at once
    await waitFor('the first request upstream', () => up.hits.length === 1);
    await Promise.all([abortAfter(base, '/ok', 100), abortAfter(base, '/ok', 100), abortAfter(base, '/ok', 100)]);
    expect((await first).status).toBe(200);
    await waitFor('the aborted streams to end', () => served.serve.counters.active === 0);
    await sleep(1500); // past every slot the aborted requests held
    expect(up.hits.length).toBe(1);
    const text = await prometheus(served);
    expect(sample(text, 'sergo_requests_queued')).toBe(3);
    expect(sample(text, 'sergo_requests_dequeued')).toBe(0);
    expect(sample(text, 'sergo_serve_client_aborts_total')).toBe(3);
    expect((await request(base, '/ok')).status).toBe(200);
  });

  it('concurrency: a slow endpoint holds slots; aborted clients give theirs back (count returns to 0)', async () => {
    const { base, up, served } = await setup(
      docs(strategy('ConcurrencyLimitStrategy', 'cl', 'maxConcurrency: 2\nlimitMode: Local'), rule('r', '/slow', ['cl'])),
    );
    const inFlight = (): bigint => {
      const sections = allSections(served.serve.host.sharedData);   // the one rule's
      expect(sections.length).toBe(1);
      const s = sections[0]!;
      return new DataView(s.record.buffer, s.record.byteOffset + s.offset, s.size).getBigInt64(0, true);
    };
    const held = [abortAfter(base, '/slow?ms=10000', 400), abortAfter(base, '/slow?ms=10000', 400)];
    await waitFor('two requests upstream', () => up.hits.length === 2);
    expect(inFlight()).toBe(2n);
    const third = await request(base, '/slow?ms=10');
    expect(third.status).toBe(429);
    expect(third.body).toContain('ConcurrencyLimit');
    await Promise.all(held);
    await waitFor('the aborted streams to end', () => served.serve.counters.active === 0);
    expect(inFlight()).toBe(0n);
    await waitFor('the upstream requests to be cancelled', () => up.aborted.length === 2);
    const text = await prometheus(served);
    expect(sample(text, 'sergo_serve_requests_active')).toBe(0);
    expect(sample(text, 'sergo_serve_client_aborts_total')).toBe(2);
    // both slots are free again
    const again = await Promise.all([request(base, '/slow?ms=200'), request(base, '/slow?ms=200')]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect(inFlight()).toBe(0n);
  });
});
