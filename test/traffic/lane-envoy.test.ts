// Traffic lanes in real Envoy, two hops (`sergo translate --format envoy --endpoints FILE`):
//
//   client ─▶ Envoy "entry" (app web: colours) ─▶ web-v1 | web-v2 ─▶ Envoy "outbound" (--outbound:
//   carries) ─▶ api-v1 | api-v2
//
// The web apps call api propagating only `baggage`, as an OpenTelemetry SDK does; they never see or
// send the lane header. Lane gray runs on version v2 of both services; lane blue has no instance
// anywhere (version v3), so its requests fall back to the base (v1) through the aggregate cluster.
// api also has a TrafficRouter (all of /items to v1): requests in no lane follow it, lanes go first.
// The key Envoy fact: the router, after the sergo filter, routes on the header the filter set.
// Process launcher only: the endpoints are loopback addresses of this machine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchers, send, type RunningEnvoy } from '../envoy/harness.ts';

const KEY = 'x-sergo-lane';
const LANES = `
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: gray }
spec:
  selector: { app: web }
  rules:
    traffic:
      http:
        - uri: { prefix: /shop }
          headers: { x-user-id: { exact: "12345" } }
        - queryParams: { gray: {} }
    workload: { selector: { version: v2 } }
    lane: { name: gray }
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: blue }
spec:
  selector: { app: web }
  rules:
    traffic: { http: { headers: { x-blue: {} } } }
    workload: { selector: { version: v3 } }
    lane: { name: blue }
`;

/** A TrafficRouter on api for the outbound proxy: lane routes come before its routes. */
const API_ROUTER = `
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: api }
spec:
  hosts: [api]
  http:
    - match: [{ uri: { prefix: /items } }]
      headers: { request: { set: { x-routed-by: api-router } } }
      route: [{ destination: { host: api, subset: v1 } }]
`;

interface Seen { app: string; lane?: string; baggage?: string; routedBy?: string; api?: Seen }

/** An app that answers who it is and what lane header and baggage reached it; `calls` is the next hop. */
class App {
  readonly seen: IncomingHttpHeaders[] = [];
  private server!: Server;
  constructor(readonly name: string, private readonly calls?: () => string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.seen.push(req.headers);
      const baggage = req.headers.baggage as string | undefined;
      const me: Seen = { app: this.name, lane: req.headers[KEY] as string | undefined, baggage, routedBy: req.headers['x-routed-by'] as string | undefined };
      const reply = (body: Seen) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (this.calls === undefined) { reply(me); return; }
      // The next hop carries the incoming baggage only (what OpenTelemetry propagates).
      const headers: Record<string, string> = { host: 'api' };
      if (baggage !== undefined) headers.baggage = baggage;
      const out = request(`${this.calls()}/items`, { headers, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => reply({ ...me, api: JSON.parse(body) as Seen }));
      });
      out.on('error', (err) => res.writeHead(502).end(String(err)));
      out.end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number { return (this.server.address() as { port: number }).port; }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function endpointsFile(host: string, apps: Array<[App, string]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-lane-endpoints-'));
  const file = join(dir, 'endpoints.yaml');
  writeFileSync(file, `${host}:\n${apps.map(([a, v]) => `  - { address: 127.0.0.1:${a.port}, labels: { version: ${v} } }`).join('\n')}\n`);
  return file;
}

const [processLauncher] = (await launchers('test/traffic/lane-envoy.test.ts')).filter((l) => l.name === 'process');

describe.skipIf(processLauncher === undefined)('lanes in Envoy (process, 2 hops, 2 workers each)', () => {
  let apiV1: App, apiV2: App, webV1: App, webV2: App;
  let entry: RunningEnvoy, outbound: RunningEnvoy;

  beforeAll(async () => {
    apiV1 = await new App('api-v1').start();
    apiV2 = await new App('api-v2').start();
    outbound = await processLauncher!.start({
      rules: LANES + API_ROUTER, upstreamPort: apiV1.port,
      translateArgs: ['--app', 'web', '--outbound', '--endpoints', endpointsFile('api', [[apiV1, 'v1'], [apiV2, 'v2']])],
    });
    webV1 = await new App('web-v1', () => outbound.url).start();
    webV2 = await new App('web-v2', () => outbound.url).start();
    entry = await processLauncher!.start({
      rules: LANES, upstreamPort: webV1.port,
      translateArgs: ['--app', 'web', '--endpoints', endpointsFile('web', [[webV1, 'v1'], [webV2, 'v2']])],
    });
  }, 120_000);
  afterAll(async () => {
    await entry?.stop();
    await outbound?.stop();
    for (const app of [webV1, webV2, apiV1, apiV2]) await app?.close();
  });

  const call = async (path: string, headers: Record<string, string> = {}): Promise<Seen> => {
    const reply = await send(entry.url, path, { headers: { host: 'web', ...headers } });
    expect(reply.status, reply.body).toBe(200);
    return JSON.parse(reply.body) as Seen;
  };

  it('a request coloured at the entry reaches v2, and its call out (baggage only) stays in the lane', async () => {
    for (let i = 0; i < 10; i++) {
      const seen = await call('/shop/cart', { 'x-user-id': '12345' });
      expect(seen).toMatchObject({ app: 'web-v2', lane: 'gray', baggage: `${KEY}=gray` });
      // web-v2 sent no lane header: the outbound Envoy's filter set it from baggage, its router used it.
      expect(seen.api).toMatchObject({ app: 'api-v2', lane: 'gray', baggage: `${KEY}=gray` });
      // api's TrafficRouter would send /items to v1: the lane's route comes first in its virtual host.
      expect(seen.api?.routedBy).toBeUndefined();
    }
    expect(webV2.seen.length).toBeGreaterThanOrEqual(10);
  });

  it('uncoloured requests go to v1 on both hops, and carry no lane', async () => {
    for (const [path, headers] of [['/shop/cart', {}], ['/other', { 'x-user-id': '12345' }], ['/shop/cart', { 'x-user-id': '1234' }]] as const) {
      const seen = await call(path, headers);
      expect(seen, path).toMatchObject({ app: 'web-v1', api: { app: 'api-v1', routedBy: 'api-router' } });
      expect(seen.lane).toBeUndefined();
      expect(seen.api?.lane).toBeUndefined();
    }
  });

  it('the other block of the lane colours too; the members of baggage the client sent are kept', async () => {
    const seen = await call('/anything?gray', { baggage: 'userId=alice, tenant=t1' });
    expect(seen).toMatchObject({ app: 'web-v2', lane: 'gray', baggage: `userId=alice,tenant=t1,${KEY}=gray` });
    expect(seen.api).toMatchObject({ app: 'api-v2', lane: 'gray', baggage: `userId=alice,tenant=t1,${KEY}=gray` });
  });

  it('of two baggage headers Envoy gives the filter the first, and the rewrite leaves one (as src/host)', async () => {
    const reply = await send(entry.url, '/x?gray', { headers: { host: 'web', baggage: ['a=1', 'b=2'] } });
    expect(JSON.parse(reply.body)).toMatchObject({ app: 'web-v2', lane: 'gray', baggage: `a=1,${KEY}=gray` });
  });

  it('a lane without instances of a host falls back to the base (aggregate cluster), and is still carried', async () => {
    const seen = await call('/x', { 'x-blue': '1' });
    expect(seen).toMatchObject({ app: 'web-v1', lane: 'blue', baggage: `${KEY}=blue` });
    expect(seen.api).toMatchObject({ app: 'api-v1', lane: 'blue', baggage: `${KEY}=blue` });
  });

  it('the outbound proxy colours nothing: a call that would match a rule keeps the lane it came with', async () => {
    const reply = await send(outbound.url, '/items?gray', { headers: { host: 'api', 'x-user-id': '12345' } });
    expect(JSON.parse(reply.body)).toMatchObject({ app: 'api-v1' });
    expect((JSON.parse(reply.body) as Seen).lane).toBeUndefined();
  });

  it("counts what each proxy did (wasmcustom.sergo.lane_*)", async () => {
    // The workers hand their counts to Envoy on a tick, up to METRICS_FLUSH_MS after the request.
    const flushed = async () => ((await outbound.stats('sergo.lane_')).get('wasmcustom.sergo.lane_carried') ?? 0) >= 13
      && ((await entry.stats('sergo.lane_')).get('wasmcustom.sergo.lane_coloured') ?? 0) >= 13;
    await eventually(flushed, 10_000, 'the workers to flush their lane counts');
    const e = await entry.stats('sergo.lane_');
    const o = await outbound.stats('sergo.lane_');
    expect(e.get('wasmcustom.sergo.lane_coloured')).toBeGreaterThanOrEqual(13);
    expect(o.get('wasmcustom.sergo.lane_coloured') ?? 0).toBe(0);
    expect(o.get('wasmcustom.sergo.lane_carried')).toBeGreaterThanOrEqual(13);
  });
});
