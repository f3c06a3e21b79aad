// limitMode Global through the rate-limit service callout (proxy_http_call), against an in-process
// fake of the service: the filter's side of the protocol, fail policies, timeouts and batching.
// test/rls/ covers the real service with Redis.
import { describe, it, expect } from 'vitest';
import { startSergo, send, metricName, text } from './harness.ts';
import { SharedDataStore, type HttpCallRequest, type HttpCallResponse, type HttpStream } from '../../src/host/index.ts';

const SERVICE = { cluster: 'sergo_rls', authority: 'rls.local', timeoutMs: 20 };
const globalRule = (extra: Record<string, unknown> = {}) => ({
  id: 'prod/app/r/RateLimitStrategy/g@/g', resource: '/g',
  strategy: { kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 1000, ...extra },
  fallback: { status: 429, body: 'global limit', headers: [['x-limited', 'global']] },
});
const m = (name: string) => metricName('prod/app/r/RateLimitStrategy/g@/g', '/g', 'RateLimit', name);

/** A fake rate-limit service: one budget per (rule, window), shared by every host that calls it. */
class FakeService {
  used = new Map<string, number>();
  calls: HttpCallRequest[] = [];
  mode: 'ok' | 'error' | 'hang' = 'ok';
  handler = (_vm: number, call: HttpCallRequest): Promise<HttpCallResponse | null> => {
    this.calls.push(call);
    if (this.mode === 'hang') return new Promise(() => {});
    if (this.mode === 'error') return Promise.resolve({ headers: [[':status', '503']], body: 'redis down' });
    const req = JSON.parse(text(call.body as Uint8Array));
    const d = req.descriptors[0];
    const key = d.entries.map((e: { value: string }) => e.value).join('|');
    const hits = req.hits_addend ?? 1;
    const used = this.used.get(key) ?? 0;
    if (used + hits > d.limit.requests_per_unit) return Promise.resolve({ headers: [[':status', '429']], body: '{"overallCode":"OVER_LIMIT"}' });
    this.used.set(key, used + hits);
    return Promise.resolve({ headers: [[':status', '200']], body: '{"overallCode":"OK"}' });
  };
}

/** Waits until no call is outstanding, including calls made while answers were delivered. */
async function settle(host: ReturnType<typeof proxy>['host']): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await host.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function proxy(service: FakeService, rules: unknown[], vms = 2) {
  return startSergo({ version: 1, rateLimitService: SERVICE, rules }, { vms, httpCallHandler: service.handler });
}

/** Sends a request and waits for the service's answer; returns what happened to the stream. */
async function request(host: ReturnType<typeof proxy>['host'], vm?: number): Promise<{ stream: HttpStream; outcome: string }> {
  const { stream, result } = send(host, 'GET', '/g', vm);
  if (result.action !== 'pause') return { stream, outcome: result.action };
  await host.whenIdle();
  if (stream.localResponse) return { stream, outcome: 'local-response' };
  return { stream, outcome: stream.resumeCount === 1 ? 'continue' : 'paused' };
}

describe('RateLimitStrategy limitMode Global (rate-limit service callout)', () => {
  it('sends the reference service HTTP/JSON request to the configured cluster', async () => {
    const service = new FakeService();
    const { host } = proxy(service, [globalRule()]);
    expect((await request(host)).outcome).toBe('continue');
    const call = service.calls[0];
    expect(call.cluster).toBe('sergo_rls');
    expect(call.timeoutMs).toBe(20);
    expect(Object.fromEntries(call.headers)).toMatchObject({ ':method': 'POST', ':path': '/json', ':authority': 'rls.local', 'content-type': 'application/json' });
    expect(JSON.parse(text(call.body as Uint8Array))).toEqual({
      domain: 'sergo',
      descriptors: [{ entries: [{ key: 'sergo_rule', value: 'prod/app/r/RateLimitStrategy/g@/g' }], limit: { requests_per_unit: 100, unit: 'SECOND' } }],
      hits_addend: 1,
    });
  });

  it('windows that are not 1 s/1 min/1 h/1 d carry sergo_window_ms', async () => {
    const service = new FakeService();
    const { host } = proxy(service, [globalRule({ windowMs: 5000 })]);
    await request(host);
    const body = JSON.parse(text(service.calls[0].body as Uint8Array));
    expect(body.descriptors[0].entries).toContainEqual({ key: 'sergo_window_ms', value: '5000' });
  });

  it('3 proxies sharing one service, threshold 100 → exactly 100 admitted in total', async () => {
    const service = new FakeService();
    const proxies = [proxy(service, [globalRule()]), proxy(service, [globalRule()]), proxy(service, [globalRule()])];
    let admitted = 0;
    let blocked = 0;
    for (let i = 0; i < 300; i++) {
      const { stream, outcome } = await request(proxies[i % 3].host);
      if (outcome === 'continue') admitted++;
      else {
        blocked++;
        expect(stream.localResponse!.status).toBe(429);
        expect(stream.localResponse!.bodyText).toBe('global limit');
      }
      stream.finish();
    }
    expect(admitted).toBe(100);
    expect(blocked).toBe(200);
    const overLimit = proxies.reduce((n, p) => n + Number(p.host.metric(m('rls_over_limit'))), 0);
    expect(overLimit).toBe(200);
  });

  it('service errors apply the rule\'s fail policy and are counted: closed by default', async () => {
    const service = new FakeService();
    service.mode = 'error';
    const closed = proxy(service, [globalRule()]).host;
    const r = await request(closed);
    expect(r.outcome).toBe('local-response');
    expect(closed.metric(m('rls_errors'))).toBe(1n);
    expect(closed.metric(m('rls_failed_open'))).toBe(0n);
    const open = proxy(service, [globalRule({ failOpen: true })]).host;
    expect((await request(open)).outcome).toBe('continue');
    expect(open.metric(m('rls_errors'))).toBe(1n);
    expect(open.metric(m('rls_failed_open'))).toBe(1n);
  });

  it('a slow service times out after timeoutMs and the fail policy applies', async () => {
    const service = new FakeService();
    service.mode = 'hang';
    const { host } = proxy(service, [globalRule()]);
    const { stream, result } = send(host, 'GET', '/g');
    expect(result.action).toBe('pause');
    host.advance(19);
    expect(stream.localResponse).toBeUndefined();
    host.advance(1);
    expect(stream.localResponse?.status).toBe(500); // the service-error reply, not the rule's 429
    expect(host.metric(m('rls_errors'))).toBe(1n);
  });

  it('no such cluster (the host refuses the call) counts as an error, never a silent pass', () => {
    const { host } = startSergo({ version: 1, rateLimitService: SERVICE, rules: [globalRule()] });   // no handler
    const { result } = send(host, 'GET', '/g');
    expect(result.action).toBe('local-response');
    expect(host.metric(m('rls_errors'))).toBe(1n);
  });

  it('local checks run first; a stream that ends while waiting gives back its local reservations', async () => {
    const service = new FakeService();
    service.mode = 'hang';
    const concurrency = { id: 'cl', resource: '/g', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 1 } };
    const { host } = proxy(service, [globalRule(), concurrency]);
    const first = send(host, 'GET', '/g');
    expect(first.result.action).toBe('pause');
    expect(send(host, 'GET', '/g').result.action).toBe('local-response');   // the slot is held while waiting
    await new Promise((resolve) => setImmediate(resolve));                  // the host calls handlers on a microtask
    expect(service.calls.length).toBe(1);                                   // blocked locally: no call made
    first.stream.reset();
    host.advance(20);                                                       // the late answer (a timeout) is ignored
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
    service.mode = 'ok';
    expect((await request(host)).outcome).toBe('continue');                 // the slot came back
  });

  it('batching: one call reserves N hits spent locally by every worker; never more than the threshold', async () => {
    const service = new FakeService();
    const proxies = [proxy(service, [globalRule({ batch: 10 })], 4), proxy(service, [globalRule({ batch: 10 })], 4)];
    let admitted = 0;
    for (let i = 0; i < 300; i++) {
      const { stream, outcome } = await request(proxies[i % 2].host, i % 4);
      if (outcome === 'continue') admitted++;
      stream.finish();
    }
    expect(admitted).toBe(100);
    // 10 granted batches; a refused request costs a call; each of the 8 workers' background refills
    // may be refused once before they stop for the window.
    expect(service.calls.length).toBeLessThanOrEqual(10 + 200 + 8);
    const granted = service.calls.length - proxies.reduce((n, p) => n + Number(p.host.metric(m('rls_over_limit'))), 0);
    expect(granted).toBe(10);
  });

  it('batching: the batch record is created in zeros by on_configure, then every edit is a CAS write', async () => {
    const sets: { key: string; cas: number }[] = [];
    class Recording extends SharedDataStore {
      override set(vmId: string, key: string, value: Uint8Array, cas: number, owned = false): number {
        if (key.startsWith('sergo:RateLimitStrategy:')) sets.push({ key, cas });
        return super.set(vmId, key, value, cas, owned);
      }
    }
    const service = new FakeService();
    const { host } = startSergo({ version: 1, rateLimitService: SERVICE, rules: [globalRule({ batch: 10 })] },
      { vms: 4, httpCallHandler: service.handler, sharedData: new Recording() });
    // A creation at a request would be a write without a cas: one worker's could wipe what another
    // worker's first requests took from the batch in the same instant.
    expect(sets.map((s) => s.cas)).toEqual([0]);                       // by the first VM; the others found it
    for (let i = 0; i < 30; i++) {
      const { stream, outcome } = await request(host, i % 4);
      expect(outcome).toBe('continue');
      stream.finish();
    }
    expect(sets.length).toBeGreaterThan(1);
    expect(sets.slice(1).every((s) => s.cas !== 0)).toBe(true);
  });

  it('a half-open probe refused by the service reverts the breaker to open; the next request probes', async () => {
    const service = new FakeService();
    const breaker = { id: 'cb', resource: '/g', strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 60_000, recoveryTimeoutMs: 1000, minRequestAmount: 1 } };
    const { host, clock } = proxy(service, [globalRule(), breaker]);
    const first = await request(host);
    first.stream.responseHeaders([[':status', '500']]);
    first.stream.finish();                                              // 1/1 errors → open
    expect((await request(host)).outcome).toBe('local-response');
    clock.advance(1000);
    service.mode = 'error';                                             // the probe passes the breaker, then the service refuses
    expect((await request(host)).outcome).toBe('local-response');
    const state = host.metric(metricName('cb', '/g', 'CircuitBreaker', 'breaker_state'));
    expect(state).toBe(1n);                                             // back to open, not stuck half-open
    service.mode = 'ok';
    const probe = await request(host);
    expect(probe.outcome).toBe('continue');                             // the deadline had passed: a new probe
    probe.stream.responseHeaders([[':status', '200']]);
    probe.stream.finish();
    expect(host.metric(metricName('cb', '/g', 'CircuitBreaker', 'breaker_state'))).toBe(0n);
  });

  it('batching refills are single-flight per worker: requests in flight wait for the refill instead of calling', async () => {
    const service = new FakeService();
    const { host } = proxy(service, [globalRule({ batch: 10 })], 1);
    const streams = Array.from({ length: 20 }, () => send(host, 'GET', '/g', 0).stream);   // all before any answer
    await settle(host);
    expect(streams.filter((s) => s.resumeCount === 1).length).toBe(20);
    // The first call serves its request + 9 waiters; the token that leaves 4 starts a background
    // refill, which the other 10 waiters wait for (no call of their own); taking its last tokens
    // starts the next background refill.
    expect(service.calls.length).toBe(3);
    expect(host.metric(m('rls_ok'))).toBe(3n);
    for (const s of streams) s.finish();
  });

  it('a waiter that ends before the refill answers is forgotten; the refill still fills the batch', async () => {
    const service = new FakeService();
    const { host } = proxy(service, [globalRule({ batch: 10 })], 1);
    const caller = send(host, 'GET', '/g', 0).stream;
    const waiter = send(host, 'GET', '/g', 0).stream;
    caller.reset();                          // the caller leaves: its hit goes to the batch too
    waiter.reset();
    await settle(host);
    expect(waiter.resumeCount).toBe(0);
    expect(host.vms[0].failed).toBe(false);
    const before = service.calls.length;
    for (let i = 0; i < 10; i++) expect(send(host, 'GET', '/g', 0).result.action).toBe('continue');   // 10 deposited hits
    expect(service.calls.length).toBe(before);
  });

  it('batching under steady traffic: background refills keep tokens ready, requests do not wait', async () => {
    const service = new FakeService();
    const { host } = proxy(service, [globalRule({ batch: 10, threshold: 1000 })], 2);
    const paused: number[] = [];
    for (let i = 0; i < 100; i++) {
      const { stream, result } = send(host, 'GET', '/g', i % 2);
      if (result.action === 'pause') paused.push(i);
      await settle(host);
      stream.finish();
    }
    expect(paused).toEqual([0]);                 // only the very first request waited for the service
    expect(service.calls.length).toBeLessThanOrEqual(11);
    expect(host.metric(m('rls_errors'))).toBe(0n);
  });

  it('no background refills after the service refused a batch in this window', async () => {
    const service = new FakeService();
    const { host, clock } = proxy(service, [globalRule({ batch: 10, threshold: 20 })], 1);
    for (let i = 0; i < 60; i++) {
      const { stream } = send(host, 'GET', '/g', 0);
      await settle(host);
      stream.finish();
    }
    const calls = service.calls.length;
    expect(host.metric(m('rls_ok'))).toBe(2n);    // 20 hits: two batches
    expect(calls).toBeLessThanOrEqual(2 + 1 + 40); // one refused background refill, then one call per refused request
    clock.advance(1000);                          // a new window: the budget is back
    service.used.clear();
    const { stream } = send(host, 'GET', '/g', 0);
    await settle(host);
    expect(stream.resumeCount).toBe(1);
  });
});
