// gRPC in real Envoy: a @grpc/grpc-js client through the bootstrap `sergo translate --format envoy
// --upstream-protocol http2` emits, to a @grpc/grpc-js server (test/fixtures/grpc). Resource keys
// are full method names (also in Sentinel's spelling without the leading slash); a blocked call is
// answered as gRPC — trailers-only, :status 200, grpc-status RESOURCE_EXHAUSTED for the limits and
// UNAVAILABLE for an open breaker unless the fallback says otherwise, the fallback's body as
// grpc-message — never an HTTP 429. src/host answers the same requests with the same headers.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileModule, ProxyWasmHost, type HeaderList, type LocalResponse } from '../../src/host/index.ts';
import { sergoModule } from '../filter/harness.ts';
import { callEcho, EchoServer, rawGrpcCall, WatchStream, type Outcome } from '../fixtures/grpc/echo.ts';
import { repoRoot } from '../support/paths.ts';
import { eventually, launchers, workersUsed, type RunningEnvoy } from './harness.ts';

const RESOURCE_EXHAUSTED = 8;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;

const CLOSED_BODY = 'closed for maintenance: 100% ~ü\n';
const doc = (text: string) => `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\n${text}`;
const guard = (name: string, target: string, strategy: string, fallback?: string) => doc(`kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '${target}' }]
  strategies: [{ name: ${strategy} }]${fallback === undefined ? '' : `\n  fallbackAction: ${fallback}`}
`);

const RULES = [
  doc(`kind: RateLimitStrategy
metadata: { name: three-per-minute, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: 3, statDurationSeconds: 60 }
`),
  doc(`kind: RateLimitStrategy
metadata: { name: none, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: 0, statDurationSeconds: 1 }
`),
  doc(`kind: ThrottlingStrategy
metadata: { name: one-per-10s, labels: { app: demo } }
spec: { minIntervalOfRequests: 10s, queueTimeout: 100ms }
`),
  doc(`kind: ThrottlingStrategy
metadata: { name: every-300ms, labels: { app: demo } }
spec: { minIntervalOfRequests: 300ms, queueTimeout: 5s }
`),
  doc(`kind: ConcurrencyLimitStrategy
metadata: { name: one-at-once, labels: { app: demo } }
spec: { maxConcurrency: 1, limitMode: Local }
`),
  doc(`kind: CircuitBreakerStrategy
metadata: { name: slow-calls, labels: { app: demo } }
spec:
  strategy: SlowRequestRatio
  triggerRatio: '50%'
  statDuration: 30s
  recoveryTimeout: 60s
  minRequestAmount: 2
  slowConditions: { maxAllowedRt: 100ms }
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: slow-down, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 429
    responseContentBody: 'slow down'
    responseAdditionalHeaders: [{ key: x-sergo, value: limited }]
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: closed, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 429
    responseContentBody: ${JSON.stringify(CLOSED_BODY)}
    responseAdditionalHeaders:
      - { key: x-sergo, value: closed }
      - { key: content-type, value: application/json }
      - { key: x-reason, value: maintenance }
      - { key: content-length, value: '99' }
      - { key: x-sergo, value: again }
    responseGrpcStatus: PERMISSION_DENIED
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: breaker-open, labels: { app: demo } }
spec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 503, responseContentBody: 'breaker open' } }
`),
  // Sentinel's spelling of the resource: the full method name without the leading slash.
  guard('limited', 'sergo.test.Echo/Limited', 'three-per-minute', 'slow-down'),
  guard('closed', '/sergo.test.Echo/Closed', 'none', 'closed'),
  guard('paced', '/sergo.test.Echo/Paced', 'one-per-10s'),
  guard('queued', '/sergo.test.Echo/Queued', 'every-300ms'),
  guard('watch', '/sergo.test.Echo/Watch', 'one-at-once'),
  guard('guarded', '/sergo.test.Echo/Guarded', 'slow-calls', 'breaker-open'),
].join('');

const TRANSLATE_ARGS = ['--upstream-protocol', 'http2'];
/** A module that traps on every request (test/fixtures/wasm/trap.ts). */
const TRAP_MODULE = join(repoRoot, 'build', 'test', 'trap.wasm');

/** The filter configuration inside the emitted bootstrap (what Envoy hands the module). */
function pluginConfiguration(bootstrap: string): string {
  const b = parseYaml(bootstrap);
  return b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration.value;
}

/** The headers Envoy itself adds to every response (not the filter's, not the host's business). */
const ENVOY_OWN = new Set(['date', 'server', 'connection']);
const withoutEnvoyOwn = (headers: [string, string][]) => headers.filter(([name]) => !ENVOY_OWN.has(name));

/** The reply src/host gives the same request, with the same filter configuration. */
function hostReply(configuration: string, headers: HeaderList, module?: WebAssembly.Module): LocalResponse | undefined {
  const host = new ProxyWasmHost({ module: module ?? sergoModule(), vms: 1, rootId: 'sergo', configuration });
  expect(host.start()).toBe(true);
  const stream = host.stream();
  const result = stream.requestHeaders(headers, false);
  stream.finish();
  return result.localResponse;
}

const grpcRequest = (path: string, authority: string): HeaderList => [
  [':method', 'POST'], [':scheme', 'http'], [':authority', authority], [':path', path],
  ['content-type', 'application/grpc'], ['te', 'trailers'],
];

/** One HTTP/1.1 POST with the response headers in the order they came. */
function rawHttp1(baseUrl: string, path: string): Promise<{ status: number; headers: [string, string][]; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
    });
    req.on('error', reject);
    req.end('x');
  });
}

const codes = (outcomes: Outcome[]) => outcomes.map((o) => (o.ok ? 0 : o.code));
const refused = (o: Outcome) => (o.ok ? undefined : { code: o.code, details: o.details });

const [first, ...others] = await launchers('test/envoy/grpc.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`gRPC through Envoy (${launcher.name}, 2 workers)`, () => {
    let upstream: EchoServer;
    let envoy: RunningEnvoy;
    let target: string;

    beforeAll(async () => {
      upstream = await EchoServer.start();
      envoy = await launcher.start({ rules: RULES, upstreamPort: upstream.port, concurrency: 2, translateArgs: TRANSLATE_ARGS });
      target = new URL(envoy.url).host;
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('admits exactly threshold calls of a burst across workers; the others get RESOURCE_EXHAUSTED with the fallback text', async () => {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => callEcho(target, 'Limited', { text: `n${i}` })));
      const admitted = outcomes.filter((o) => o.ok);
      const blocked = outcomes.filter((o) => !o.ok);
      expect(admitted).toHaveLength(3);
      expect(blocked).toHaveLength(17);
      for (const o of blocked) {
        expect(o).toMatchObject({ code: RESOURCE_EXHAUSTED, details: 'slow down', metadata: { 'x-sergo': 'limited', 'content-type': 'application/grpc' } });
      }
      expect(upstream.calls('Limited')).toBe(3);
      expect(await workersUsed(envoy)).toBe(2);
    });

    it('matches Sentinel\'s pkg.Service/Method as the call\'s :path /pkg.Service/Method, and that method only', async () => {
      const rules = JSON.parse(pluginConfiguration(envoy.bootstrap)).rules as Array<{ id: string; resource: string }>;
      expect(rules.find((r) => r.id.startsWith('default/demo/limited/'))?.resource).toBe('/sergo.test.Echo/Limited');
      const free = await Promise.all(Array.from({ length: 6 }, (_, i) => callEcho(target, 'Free', { text: `f${i}` })));
      expect(free.map((o) => (o.ok ? o.reply.text : o.details))).toEqual(['echo f0', 'echo f1', 'echo f2', 'echo f3', 'echo f4', 'echo f5']);
      expect(refused(await callEcho(target, 'Limited', { text: 'again' }))).toEqual({ code: RESOURCE_EXHAUSTED, details: 'slow down' });
    });

    it('on the wire: one headers frame ending the stream, :status 200, application/grpc, grpc-status, percent-encoded grpc-message', async () => {
      const raw = await rawGrpcCall(envoy.url, '/sergo.test.Echo/Closed');
      expect(raw.endStream).toBe(true);
      expect(raw.dataBytes).toBe(0);
      expect(raw.trailers).toEqual([]);
      expect(withoutEnvoyOwn(raw.headers)).toEqual([
        [':status', '200'],
        ['x-sergo', 'closed'],
        ['x-sergo', 'again'],                     // HTTP/2: the values of a name go out together
        ['content-type', 'application/grpc'],     // the fallback's application/json, replaced in place
        ['x-reason', 'maintenance'],              // (and its content-length dropped)
        ['grpc-status', String(PERMISSION_DENIED)],
        ['grpc-message', 'closed for maintenance: 100%25 %7E%C3%BC%0A'],
      ]);
      // …which a gRPC client reads as the configured status and the fallback's text.
      expect(refused(await callEcho(target, 'Closed', { text: 'x' }))).toEqual({ code: PERMISSION_DENIED, details: CLOSED_BODY });
      expect(upstream.calls('Closed')).toBe(0);
    });

    it('src/host answers a gRPC request with exactly the headers Envoy sent', async () => {
      const raw = await rawGrpcCall(envoy.url, '/sergo.test.Echo/Closed');
      const reply = hostReply(pluginConfiguration(envoy.bootstrap), grpcRequest('/sergo.test.Echo/Closed', target));
      expect(reply).toMatchObject({ grpc: true, status: 200, bodyText: '' });
      expect(reply!.headers).toEqual(withoutEnvoyOwn(raw.headers));
    });

    it('an HTTP/1.1 request blocked by the same rule gets the fallback as configured, as src/host gives it', async () => {
      const http = await rawHttp1(envoy.url, '/sergo.test.Echo/Closed');
      expect(http.status).toBe(429);
      expect(http.body).toBe(CLOSED_BODY);
      const length = String(Buffer.byteLength(CLOSED_BODY));
      expect(withoutEnvoyOwn(http.headers)).toEqual([
        ['x-sergo', 'closed'],
        ['content-type', 'application/json'],
        ['x-reason', 'maintenance'],
        ['content-length', length],               // the fallback's 99, corrected in place
        ['x-sergo', 'again'],
      ]);
      const reply = hostReply(pluginConfiguration(envoy.bootstrap),
        [[':method', 'POST'], [':scheme', 'http'], [':authority', target], [':path', '/sergo.test.Echo/Closed'], ['content-length', '1']]);
      expect(reply).toMatchObject({ grpc: false, status: 429, bodyText: CLOSED_BODY });
      expect(reply!.headers).toEqual([[':status', '429'], ...withoutEnvoyOwn(http.headers)]);
    });

    it('Throttling: a call whose slot is beyond queueTimeout gets RESOURCE_EXHAUSTED with the default text', async () => {
      // one per 10 s, waiting at most 100 ms: of three calls at once, one goes, two are refused.
      const outcomes = await Promise.all(Array.from({ length: 3 }, (_, i) => callEcho(target, 'Paced', { text: `p${i}` })));
      expect(codes(outcomes).sort()).toEqual([0, RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED]);
      for (const o of outcomes.filter((x) => !x.ok)) {
        expect(refused(o)!.details).toBe('Blocked by sergo: ThrottlingStrategy\n');
      }
      expect(upstream.calls('Paced')).toBe(1);
    });

    it('Throttling: queued calls wait for their slots (Envoy holds the request message meanwhile) and arrive intact', async () => {
      // Slots at +0, +300, +600 ms: the last call cannot be resumed before its slot minus one tick.
      const started = Date.now();
      const outcomes = await Promise.all(['q0', 'q1', 'q2'].map(async (text) => {
        const outcome = await callEcho(target, 'Queued', { text });
        return { outcome, ms: Date.now() - started };
      }));
      expect(outcomes.map((o) => (o.outcome.ok ? o.outcome.reply.text : o.outcome.details))).toEqual(['echo q0', 'echo q1', 'echo q2']);
      expect(Math.max(...outcomes.map((o) => o.ms))).toBeGreaterThanOrEqual(450);
      expect(upstream.calls('Queued')).toBe(3);
    });

    it('ConcurrencyLimit on a server stream: a second stream is refused while one is open; cancelling gives the slot back', async () => {
      const open = new WatchStream(target, { text: 'a', delay_ms: 60_000 });
      await eventually(() => open.messages.length === 1, 10_000, 'the first stream\'s first message');
      const second = new WatchStream(target, { text: 'b', delay_ms: 60_000 });
      const status = await second.ended;
      expect({ code: status.code, details: status.details }).toEqual({
        code: RESOURCE_EXHAUSTED,
        details: 'Blocked by sergo: ConcurrencyLimitStrategy\n',
      });
      expect(second.messages).toEqual([]);
      expect(upstream.calls('Watch')).toBe(1);

      open.cancel();
      await open.ended;
      // Envoy ends the cancelled stream (RST_STREAM) and the filter gives the slot back.
      let third: WatchStream | undefined;
      await eventually(async () => {
        third = new WatchStream(target, { text: 'c', delay_ms: 60_000 });
        const done = await Promise.race([third.ended, eventually(() => third!.messages.length === 1, 5_000).then(() => undefined)]);
        return done === undefined;
      }, 15_000, 'a stream admitted after the cancel');
      expect(third!.messages).toEqual([{ text: 'first c' }]);
      third!.cancel();
      await third!.ended;
      expect(upstream.calls('Watch')).toBe(2);
    });

    it('CircuitBreaker: once slow calls trip it, calls get UNAVAILABLE with the fallback text', async () => {
      for (const text of ['s1', 's2']) {
        const slow = await callEcho(target, 'Guarded', { text, delay_ms: 300 });
        expect(slow.ok).toBe(true);
      }
      expect(refused(await callEcho(target, 'Guarded', { text: 'fast' }))).toEqual({ code: UNAVAILABLE, details: 'breaker open' });
      expect(upstream.calls('Guarded')).toBe(2);
      const stats = await envoy.stats('breaker_state');
      expect([...stats.values()]).toContain(1);   // 1 = open
    });
  });

  describe(`gRPC when the module fails (${launcher.name})`, () => {
    let upstream: EchoServer;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await EchoServer.start();
      envoy = await launcher.start({ rules: RULES, upstreamPort: upstream.port, translateArgs: TRANSLATE_ARGS, module: TRAP_MODULE });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('fail closed: the call gets UNAVAILABLE (Envoy\'s 503 as gRPC), as src/host gives it', async () => {
      const target = new URL(envoy.url).host;
      expect(refused(await callEcho(target, 'Free', { text: 'x' }))).toMatchObject({ code: UNAVAILABLE });
      const raw = await rawGrpcCall(envoy.url, '/sergo.test.Echo/Free');
      expect(raw.endStream).toBe(true);
      const reply = hostReply(pluginConfiguration(envoy.bootstrap), grpcRequest('/sergo.test.Echo/Free', target), compileModule(readFileSync(TRAP_MODULE)));
      expect(reply).toMatchObject({ grpc: true, status: 200, details: 'wasm_fail_stream' });
      expect(reply!.headers).toEqual(withoutEnvoyOwn(raw.headers));
      expect(upstream.seen).toEqual([]);
    });
  });
}
