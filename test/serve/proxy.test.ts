// sergo serve as a reverse proxy: headers, streamed bodies, upstream failures (502/504) as the filter
// sees them, the admin endpoints and graceful shutdown.
import http from 'node:http';
import type { ServeOptions } from '../../src/serve/index.ts';
import { describe, expect, it } from 'vitest';
import {
  deadPort, docs, prometheus, request, rule, sample, serveFor, startUpstream, strategy, waitFor, workspace,
  type Served, type TestUpstream, type Workspace, closeAfterEach
} from './helpers.ts';

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let served: Served | undefined;
closeAfterEach();


const RATE_LIMIT = docs(
  strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 2\nstatDurationSeconds: 60'),
  rule('limited', 'GET:/ok', ['rl']),
);
const BREAKER = docs(
  strategy('CircuitBreakerStrategy', 'cb', "strategy: ErrorRequestRatio\ntriggerRatio: '50%'\nstatDuration: 30s\nrecoveryTimeout: 30s\nminRequestAmount: 2"),
  rule('guarded', '/**', ['cb']),
);

async function setup(rules: string, extra: Partial<ServeOptions> = {}) {
  ws = workspace();
  up = await startUpstream();
  served = await serveFor({ rules: [ws.file('rules.yaml', rules)], upstream: up.url, ...extra });
  return { up, served, base: served.base };
}

describe('sergo serve: proxying', () => {
  it('forwards method, path, query and headers; the upstream sees host, x-forwarded-for; hop-by-hop headers are dropped', async () => {
    const { base, up } = await setup(RATE_LIMIT);
    const r = await request(base, '/echo?a=1&b=2', { method: 'PUT', headers: { 'X-Custom': 'v1', Connection: 'keep-alive, x-drop', 'Keep-Alive': 'timeout=5' }, body: 'hello' });
    expect(r.status).toBe(200);
    expect(r.headers['x-upstream']).toBe('echo');
    const seen = JSON.parse(r.body);
    expect(seen).toMatchObject({ method: 'PUT', url: '/echo?a=1&b=2', length: 5 });
    expect(seen.headers['x-custom']).toBe('v1');
    expect(seen.headers.host).toBe(new URL(base).host);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(up.hits).toHaveLength(1);
  });

  it('streams request and response bodies (1 MiB upload, a response whose chunks arrive over time)', async () => {
    const { base } = await setup(RATE_LIMIT);
    const big = Buffer.alloc(1 << 20, 7);
    const r = await request(base, '/echo', { method: 'POST', body: big });
    expect(JSON.parse(r.body)).toMatchObject({ length: 1 << 20, sum: (7 * (1 << 20)) % 1_000_000_007 });
    // chunked upload without content-length
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${base}/echo`, { method: 'POST', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.write('abc');
      setTimeout(() => req.end('def'), 50);
    });
    expect(JSON.parse(chunked)).toMatchObject({ length: 6 });
    // the first chunk reaches the client before the upstream has finished (no buffering)
    const times = await new Promise<number[]>((resolve, reject) => {
      const t0 = performance.now();
      const got: number[] = [];
      http.get(`${base}/stream`, { agent: false }, (res) => {
        res.on('data', () => got.push(performance.now() - t0));
        res.on('end', () => resolve([...got, performance.now() - t0]));
      }).on('error', reject);
    });
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(150);
  });

  it('upstream down: 502 to the client, and the filter sees :status 502 (a breaker counts it)', async () => {
    ws = workspace();
    served = await serveFor({ rules: [ws.file('rules.yaml', BREAKER)], upstream: `http://127.0.0.1:${await deadPort()}` });
    const base = served.base;
    const a = await request(base, '/anything');
    expect(a.status).toBe(502);
    expect(a.body).toContain('upstream connect error');
    expect((await request(base, '/anything')).status).toBe(502);
    // two 502s out of two: the breaker (ratio 50%, min 2) is open now
    const c = await request(base, '/anything');
    expect(c.status).toBe(429);
    expect(c.body).toContain('CircuitBreaker');
    const text = await prometheus(served);
    expect(sample(text, 'sergo_serve_upstream_errors_total', { reason: 'connect' })).toBe(2);
    expect(sample(text, 'sergo_breaker_state')).toBe(1);
  });

  const ONLY_500 = docs(
    strategy('CircuitBreakerStrategy', 'cb', "strategy: ErrorRequestRatio\ntriggerRatio: '50%'\nstatDuration: 30s\nrecoveryTimeout: 30s\nminRequestAmount: 2\nerrorConditions: { statusCodes: [500] }"),
    rule('guarded', '/**', ['cb']),
  );

  it('upstream down: an error even for a breaker whose statusCodes leave out 502 (the router\'s code details, as in Envoy)', async () => {
    ws = workspace();
    served = await serveFor({ rules: [ws.file('rules.yaml', ONLY_500)], upstream: `http://127.0.0.1:${await deadPort()}` });
    expect((await request(served.base, '/a')).status).toBe(502);
    expect((await request(served.base, '/b')).status).toBe(502);
    expect((await request(served.base, '/c')).status).toBe(429);   // open
  });

  it('upstream timeout: an error even for a breaker whose statusCodes leave out 504; the upstream\'s own 503 is not', async () => {
    const { base } = await setup(ONLY_500, { upstreamTimeoutMs: 200 });
    expect((await request(base, '/status/503')).status).toBe(503);
    expect((await request(base, '/hang')).status).toBe(504);
    expect((await request(base, '/ok')).status).toBe(429);   // 1 of 2: open
  });

  it('upstream timeout: 504 after --upstream-timeout, counted as an error by the filter', async () => {
    const { base, served } = await setup(BREAKER, { upstreamTimeoutMs: 300 });
    const r = await request(base, '/hang');
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream request timeout');
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.ms).toBeLessThan(5000);
    await request(base, '/hang');
    expect((await request(base, '/ok')).status).toBe(429); // breaker open after two 504s
    expect(sample(await prometheus(served), 'sergo_serve_upstream_errors_total', { reason: 'timeout' })).toBe(2);
  });

  it('a 5xx from the upstream passes through unchanged', async () => {
    const { base } = await setup(RATE_LIMIT);
    const r = await request(base, '/status/503');
    expect(r.status).toBe(503);
    expect(r.body).toBe('status 503');
  });
});

describe('sergo serve: admin', () => {
  it('/stats/prometheus: the filter metrics with decoded tags as labels, one # TYPE per family, valid lines', async () => {
    const { base, served } = await setup(RATE_LIMIT);
    for (let i = 0; i < 5; i++) await request(base, '/ok');
    // The request counts reach the host on the VM's tick, at most METRICS_FLUSH_MS later (README "Metrics").
    const id = 'default/app/limited/RateLimitStrategy/rl@GET:/ok';
    // The names in the id, each its own label (README "Metrics"); no label holds the long id.
    const labels = 'sergo_namespace="default",sergo_app="app",sergo_rule="limited",sergo_resource="GET:/ok",sergo_strategy="RateLimit",sergo_strategy_name="rl"';
    await waitFor('the request counts to be flushed', async () => {
      const body = (await request(served.serve.adminUrl, '/stats/prometheus')).body;
      return body.includes(`sergo_requests_passed{${labels}} 2\n`) &&
        body.includes(`sergo_requests_blocked{${labels}} 3\n`);
    });
    const res = await request(served.serve.adminUrl, '/stats/prometheus');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain(`sergo_requests_passed{${labels}} 2\n`);
    expect(text).toContain(`sergo_requests_blocked{${labels}} 3\n`);
    expect(text).toContain('# TYPE sergo_requests_passed counter\n');
    expect(text).toContain('# TYPE sergo_serve_requests_active gauge\n');
    expect(sample(text, 'sergo_serve_requests_total')).toBe(5);
    expect(sample(text, 'sergo_config_accepted')).toBe(1); // once per configuration, not per VM
    const families = new Set<string>();
    let family = '';
    for (const line of text.trimEnd().split('\n')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary)$/.exec(line);
      if (type) {
        expect(families.has(type[1]!)).toBe(false); // a family appears once
        families.add(type[1]!);
        family = type[1]!;
        continue;
      }
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? [0-9]+$/);
      expect(line.startsWith(family)).toBe(true); // samples follow their # TYPE line
      expect(line).not.toContain('=.=');
      expect(line).not.toContain(id);
    }
    // /stats: Envoy-style plain text with the names as the filter defined them
    const plain = (await request(served.serve.adminUrl, '/stats')).body;
    expect(plain).toContain('sergo.sergo_namespace=.=default;.;sergo_app=.=app;.;sergo_rule=.=limited;.;sergo_resource=.=GET:/ok;.;' +
      'sergo_strategy=.=RateLimit;.;sergo_strategy_name=.=rl;.;requests_passed: 2\n');
    expect((await request(served.serve.adminUrl, '/nope')).status).toBe(404);
    expect(JSON.parse((await request(served.serve.adminUrl, '/config_dump')).body).rules[0].id).toBe(id);
  });

  it('/ready: 200 while serving, 503 while draining; close() lets requests in flight finish', async () => {
    const { base, served } = await setup(RATE_LIMIT, { shutdownGraceMs: 5000 });
    const admin = served.serve.adminUrl;
    const ready = await request(admin, '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toBe('LIVE\n');
    const slow = request(base, '/slow?ms=600');
    await waitFor('the slow request in flight', () => served.serve.counters.active === 1);
    const closing = served.serve.close();
    const draining = await request(admin, '/ready');
    expect(draining.status).toBe(503);
    expect(draining.body).toBe('DRAINING\n');
    await expect(request(base, '/ok')).rejects.toThrow(); // no longer accepting
    expect((await slow).status).toBe(200);
    await closing;
    await expect(request(admin, '/ready')).rejects.toThrow();
  });
});
