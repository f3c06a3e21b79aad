// limitMode Global end to end: build/sergo.wasm in several hosts (as several proxies), asking the
// real rate-limit service (src/rls) over the HTTP/JSON protocol, counting in a real redis-server.
// Each suite starts its own redis-server child (so it can be stopped and paused); without the
// redis-server binary the suite is skipped with a message (scripts/redis.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyWasmHost, SystemClock, type HttpCallRequest, type HttpCallResponse } from '../../src/host/index.ts';
import { startRateLimitService, type RunningRateLimitService } from '../../src/rls/index.ts';
import { RedisChild, redisServerInstalled, eventually, sleep } from '../rls/support.ts';
import { sergoModule, metricName } from '../filter/harness.ts';
import { translateFiles } from '../../src/translate.ts';
import { example } from '../support/paths.ts';
import { requireComponent } from '../support/components.ts';

const redisThere = requireComponent('test/global/redis.test.ts', 'the redis-server binary', redisServerInstalled,
  'scripts/redis.sh (installs the Debian package redis-server)');

/** Answers proxy_http_call for the cluster `sergo_rls` by forwarding it to the service over HTTP. */
function forwardTo(port: () => number, counter: { calls: number }) {
  return async (_vm: number, call: HttpCallRequest): Promise<HttpCallResponse | null> => {
    counter.calls++;
    const h = Object.fromEntries(call.headers);
    const headers = Object.fromEntries(call.headers.filter(([k]) => !k.startsWith(':')));
    try {
      const res = await fetch(`http://127.0.0.1:${port()}${h[':path']}`, { method: h[':method'], headers, body: Buffer.from(call.body as Uint8Array) });
      return { headers: [[':status', String(res.status)]], body: new Uint8Array(await res.arrayBuffer()) };
    } catch {
      return null;   // connection failure: delivered as a failed call
    }
  };
}

function rule(id: string, extra: Record<string, unknown> = {}) {
  return { id, resource: '/g', strategy: { kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 60_000, ...extra }, fallback: { status: 429, body: 'global' } };
}

function proxy(rules: unknown[], handler: ReturnType<typeof forwardTo>, timeoutMs = 2000): ProxyWasmHost {
  const host = new ProxyWasmHost({
    module: sergoModule(), vms: 2, clock: new SystemClock(), realTimers: true, httpCallHandler: handler,
    configuration: JSON.stringify({ version: 1, rateLimitService: { cluster: 'sergo_rls', timeoutMs }, rules }),
  });
  expect(host.start()).toBe(true);
  return host;
}

/** Sends one request and resolves with what became of it once the service answered. */
function request(host: ProxyWasmHost, vm?: number): Promise<'admitted' | 'blocked'> {
  const stream = host.stream(vm);
  return new Promise((resolve) => {
    const settle = (outcome: 'admitted' | 'blocked') => { stream.finish(); resolve(outcome); };
    stream.onResume = () => settle('admitted');
    stream.onLocalResponse = () => queueMicrotask(() => settle('blocked'));
    const r = stream.requestHeaders([[':method', 'GET'], [':path', '/g'], [':authority', 'app']]);
    if (r.action === 'continue') settle('admitted');
    else if (r.action === 'local-response') settle('blocked');
  });
}

describe.skipIf(!redisThere)('limitMode Global: filter → rate-limit service → Redis', () => {
  let redis: RedisChild;
  let rls: RunningRateLimitService;
  const counter = { calls: 0 };
  const handler = forwardTo(() => rls.httpPort, counter);
  const hosts: ProxyWasmHost[] = [];
  const track = (h: ProxyWasmHost) => (hosts.push(h), h);

  beforeAll(async () => {
    redis = await RedisChild.start();
    rls = await startRateLimitService({ redisUrl: redis.url, redisTimeoutMs: 1000 });
  });
  afterAll(async () => {
    for (const h of hosts) h.close();
    await rls?.close();
    await redis?.dispose();
  });

  it('3 proxies × 2 workers sharing one Redis, threshold 100 per window → exactly 100 admitted', async () => {
    // A generous call timeout: this test is about exactness, and 300 calls at once on a loaded 2-core
    // machine can take longer than 2 s (a timed-out call fails closed and would read as a miscount).
    const proxies = [0, 1, 2].map(() => track(proxy([rule('exact')], handler, 15_000)));
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => request(proxies[i % 3], i % 2)));
    expect(outcomes.filter((o) => o === 'admitted').length).toBe(100);
    const errors = proxies.reduce((n, p) => n + Number(p.metric(metricName('exact', '/g', 'RateLimit', 'rls_errors')) ?? 0n), 0);
    expect(errors).toBe(0);
  });

  it('batching: the same budget with about a tenth of the calls', async () => {
    const proxies = [0, 1, 2].map(() => track(proxy([rule('batched', { batch: 10 })], handler)));
    const before = counter.calls;
    let admitted = 0;
    for (let i = 0; i < 300; i++) if ((await request(proxies[i % 3], i % 2)) === 'admitted') admitted++;
    const calls = counter.calls - before;
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThanOrEqual(100 - 3 * 9);   // at most N − 1 reserved-but-unspent per proxy
    const granted = calls - proxies.reduce((n, p) => n + Number(p.metric(metricName('batched', '/g', 'RateLimit', 'rls_over_limit'))), 0);
    expect(granted).toBeLessThanOrEqual(10);
  });

  it('Redis stopped mid-test: the fail policy applies and is counted; recovery when it returns', async () => {
    const closed = track(proxy([rule('closed', { threshold: 1000 })], handler));
    const open = track(proxy([rule('open', { threshold: 1000, failOpen: true })], handler));
    expect(await request(closed)).toBe('admitted');
    await redis.kill();
    expect(await request(closed)).toBe('blocked');
    expect(await request(open)).toBe('admitted');
    expect(closed.metric(metricName('closed', '/g', 'RateLimit', 'rls_errors'))).toBe(1n);
    expect(open.metric(metricName('open', '/g', 'RateLimit', 'rls_errors'))).toBe(1n);
    expect(open.metric(metricName('open', '/g', 'RateLimit', 'rls_failed_open'))).toBe(1n);
    await redis.start();
    await eventually(async () => (await request(closed)) === 'admitted', 15_000, 'requests admitted again after Redis came back');
  });

  it('a slow service: the call times out after timeoutMs and the fail policy applies', async () => {
    const host = track(proxy([rule('slow', { threshold: 1000 })], handler, 100));
    expect(await request(host)).toBe('admitted');
    redis.pause();   // Redis holds the connection but answers nothing; the service waits up to 1 s
    try {
      const started = Date.now();
      expect(await request(host)).toBe('blocked');
      expect(Date.now() - started).toBeLessThan(1000);   // the filter's 100 ms timeout decided, not the service
      expect(host.metric(metricName('slow', '/g', 'RateLimit', 'rls_errors'))).toBe(1n);
    } finally {
      redis.resume();
    }
    await sleep(50);
  });

  it('the flagship OpenSergo example (zh-combined-rule-ratelimit-fallback.yaml) is enforced globally', async () => {
    const result = await translateFiles([example('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml')], { namespace: 'prod' });
    expect(result.errors).toEqual([]);
    const config = result.config!;
    expect(config.rateLimitService?.cluster).toBe('sergo_rls');
    const proxies = [0, 1].map(() => track(new ProxyWasmHost({
      module: sergoModule(), vms: 2, clock: new SystemClock(), realTimers: true, httpCallHandler: handler,
      configuration: JSON.stringify({ ...config, rateLimitService: { ...config.rateLimitService, timeoutMs: 2000 } }),
    })));
    for (const p of proxies) expect(p.start()).toBe(true);
    // threshold 10 per second for the whole app: a burst of 40 over 2 proxies × 2 workers.
    const streams = Array.from({ length: 40 }, (_, i) => proxies[i % 2].stream(i % 2));
    const outcomes = await Promise.all(streams.map((stream) => new Promise<string>((resolve) => {
      stream.onResume = () => resolve('admitted');
      stream.onLocalResponse = () => resolve('blocked');
      const r = stream.requestHeaders([[':method', 'GET'], [':path', '/foo'], [':authority', 'my-app']]);
      if (r.action === 'continue') resolve('admitted');
    })));
    expect(outcomes.filter((o) => o === 'admitted').length).toBe(10);
    const blocked = streams.find((s) => s.localResponse)!.localResponse!;
    expect(blocked.status).toBe(429);
    expect(blocked.bodyText).toBe('Blocked by Sentinel');
    expect(blocked.additionalHeaders).toEqual([['x-sentinel-limit', 'foo']]);
    for (const s of streams) s.finish();
  });
});
