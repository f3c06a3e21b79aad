// limitMode Global through --rls: the filter's proxy_http_call to the rate-limit service cluster is
// forwarded over HTTP to the URL given; a tiny fake service answers 200 or 429.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  deadPort, docs, prometheus, request, rule, sample, serveFor, startUpstream, strategy, workspace,
  type Served, type TestUpstream, type Workspace, closeAfterEach, track
} from './helpers.ts';
import { createRlsForwarder } from '../../src/serve/rls-forward.ts';
import { silentLogger } from '../../src/serve/log.ts';

interface FakeRls {
  url: string;
  calls: { method: string; url: string; headers: http.IncomingHttpHeaders; body: any }[];
  allow: number;
  delayMs: number;
  close(): Promise<void>;
}

async function fakeRls(allow: number): Promise<FakeRls> {
  const rls: FakeRls = { url: '', calls: [], allow, delayMs: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c));
    req.on('end', () => {
      rls.calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(text) });
      const ok = rls.allow-- > 0;
      const answer = () => {
        res.writeHead(ok ? 200 : 429, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ overallCode: ok ? 'OK' : 'OVER_LIMIT' }));
      };
      if (rls.delayMs > 0) setTimeout(answer, rls.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rls.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rls.close = () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));
  return track(rls);
}

const ID = 'prod/app/r/RateLimitStrategy/g@/g';
/** The labels of ID's metrics: the names in it (README "Metrics"). */
const SERIES = { sergo_namespace: 'prod', sergo_app: 'app', sergo_rule: 'r', sergo_resource: '/g', sergo_strategy_name: 'g' };
const globalConfig = (extra: Record<string, unknown> = {}) => ({
  version: 1,
  rules: [
    {
      id: ID,
      resource: '/g',
      strategy: { kind: 'RateLimit', mode: 'Global', threshold: 2, windowMs: 1000 },
      fallback: { status: 429, body: 'global limit', headers: [['x-limited', 'global']] },
    },
  ],
  ...extra,
});

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let served: Served | undefined;
let rls: FakeRls | undefined;
closeAfterEach();


describe('sergo serve --rls: limitMode Global', () => {
  it('asks the service for each request: 200 admits, 429 gives the fallback', async () => {
    ws = workspace();
    up = await startUpstream();
    rls = await fakeRls(2);
    served = await serveFor({ config: ws.file('filter.json', JSON.stringify(globalConfig())), upstream: up.url, rls: rls.url });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await request(served.base, '/g'));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    expect(replies[2]!.body).toBe('global limit');
    expect(replies[2]!.headers['x-limited']).toBe('global');
    expect(up.hits).toHaveLength(2);
    expect(rls.calls).toHaveLength(4);
    const call = rls.calls[0]!;
    expect(call.method).toBe('POST');
    expect(call.url).toBe('/json');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toMatchObject({
      domain: 'sergo',
      descriptors: [{ entries: [{ key: 'sergo_rule', value: ID }], limit: { requests_per_unit: 2, unit: 'SECOND' } }],
    });
    // serve gave the configuration a rateLimitService (it had none) pointing at the URL's host
    expect(served.serve.config().rateLimitService).toMatchObject({ cluster: 'sergo_rls' });
    const text = await prometheus(served);
    expect(sample(text, 'sergo_rls_ok', SERIES)).toBe(2);
    expect(sample(text, 'sergo_rls_over_limit', SERIES)).toBe(2);
    expect(sample(text, 'sergo_serve_rls_calls_total', { outcome: 'ok' })).toBe(4);
  });

  it('OpenSergo rules with limitMode Global (--rules) go to the --rls URL, with its host as authority', async () => {
    ws = workspace();
    up = await startUpstream();
    rls = await fakeRls(1);
    const rules = docs(
      strategy('RateLimitStrategy', 'global-rl', 'metricType: RequestAmount\nlimitMode: Global\nthreshold: 5\nstatDurationSeconds: 1'),
      rule('r', '/g', ['global-rl']),
    );
    served = await serveFor({ rules: [ws.file('rules.yaml', rules)], upstream: up.url, rls: rls.url, rlsDomain: 'shop', rlsTimeoutMs: 500 });
    expect((await request(served.base, '/g')).status).toBe(200);
    expect((await request(served.base, '/g')).status).toBe(429);
    expect((await request(served.base, '/other')).status).toBe(200);
    expect(rls.calls).toHaveLength(2);
    expect(rls.calls[0]!.headers.host).toBe(new URL(rls.url).host);
    expect(rls.calls[0]!.body).toMatchObject({
      domain: 'shop',
      descriptors: [{ entries: [{ key: 'sergo_rule', value: 'default/app/r/RateLimitStrategy/global-rl@/g' }], limit: { requests_per_unit: 5, unit: 'SECOND' } }],
    });
    expect(served.serve.config().rateLimitService).toMatchObject({ cluster: 'sergo_rls', domain: 'shop', timeoutMs: 500 });
  });

  it('without --rls-timeout-ms, a service answer 60 ms late still admits (serve waits 250 ms, not the translator\'s 20 ms)', async () => {
    ws = workspace();
    up = await startUpstream();
    rls = await fakeRls(1);
    rls.delayMs = 60;   // a first call on a loaded machine: a new connection and a busy event loop
    served = await serveFor({ config: ws.file('filter.json', JSON.stringify(globalConfig())), upstream: up.url, rls: rls.url });
    expect((await request(served.base, '/g')).status).toBe(200);
    expect(served.serve.config().rateLimitService).toMatchObject({ cluster: 'sergo_rls', timeoutMs: 250 });
  });

  it('a service that does not answer within timeoutMs, or is down, is an error: failOpen decides', async () => {
    ws = workspace();
    up = await startUpstream();
    rls = await fakeRls(100);
    rls.delayMs = 1000;
    const config = globalConfig({ rateLimitService: { cluster: 'my_rls', timeoutMs: 100 } });
    served = await serveFor({ config: ws.file('filter.json', JSON.stringify(config)), upstream: up.url, rls: rls.url });
    const slow = await request(served.base, '/g');
    expect(slow.status).toBe(500); // failOpen false: blocked, with the service-error reply
    expect(slow.ms).toBeLessThan(900);
    expect(sample(await prometheus(served), 'sergo_rls_errors', SERIES)).toBe(1);
    await served.serve.close();

    const open = { ...globalConfig(), rules: [{ ...globalConfig().rules[0]!, strategy: { kind: 'RateLimit', mode: 'Global', threshold: 2, windowMs: 1000, failOpen: true } }] };
    served = await serveFor({ config: ws.file('open.json', JSON.stringify(open)), upstream: up.url, rls: `http://127.0.0.1:${await deadPort()}` });
    expect((await request(served.base, '/g')).status).toBe(200); // failOpen: admitted
    const text = await prometheus(served);
    expect(sample(text, 'sergo_rls_failed_open', SERIES)).toBe(1);
    expect(sample(text, 'sergo_serve_rls_calls_total', { outcome: 'error' })).toBe(1);
  });

  it('without --rls, Global rules make serve refuse to start, naming the rules', async () => {
    ws = workspace();
    up = await startUpstream();
    const start = serveFor({ config: ws.file('filter.json', JSON.stringify(globalConfig({ rateLimitService: { cluster: 'sergo_rls' } }))), upstream: up.url });
    await expect(start).rejects.toThrow(/limitMode Global needs a rate-limit service: give --rls[\s\S]*prod\/app\/r\/RateLimitStrategy\/g@\/g/);
  });

  it('a refused connection reaches the module as Envoy delivers it: 503 with the reset reason (test/envoy/global.test.ts)', async () => {
    const forwarder = createRlsForwarder({ url: new URL(`http://127.0.0.1:${await deadPort()}`), cluster: () => 'c', logger: silentLogger });
    try {
      const call = { cluster: 'c', headers: [[':method', 'POST'], [':path', '/json'], [':authority', 'c']] as [string, string][], body: new Uint8Array(), trailers: [], timeoutMs: 1000 };
      const reply = await forwarder.handler(0, call);
      expect(reply?.headers).toEqual([[':status', '503'], ['content-length', '167'], ['content-type', 'text/plain']]);
      expect(Buffer.from(reply!.body as Uint8Array).toString()).toBe(
        'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused');
    } finally {
      forwarder.close();
    }
  });
});
