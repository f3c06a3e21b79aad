// ConcurrencyLimitStrategy in real Envoy (4 workers): the limit holds across workers, and every way
// a request can end after taking its slot gives the slot back — the client leaving, the upstream
// resetting, the route timing out, and a local reply decided after the slot was taken (a breaker
// that is open, a Global rate limit the service refuses, another HTTP filter after sergo's) or before
// sergo saw the request (an earlier HTTP filter's). After each, a burst of slow requests admits
// exactly maxConcurrency again (a leaked slot would admit fewer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { eventually, launchers, send, workersUsed, type RunningEnvoy } from './harness.ts';
import { ScriptedRls } from './scripted-rls.ts';
import { Upstream } from './upstream.ts';

const MAX = 5;
/** The route timeout (`sergo translate --upstream-timeout`); the bursts' requests take SLOW ms. */
const UPSTREAM_TIMEOUT = 1_000;
const SLOW = 500;

const doc = (text: string) => `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\n${text}`;
/** One rule (one in-flight record) per scenario, on /NAME and everything below it. */
const limited = (name: string) => doc(`kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/${name}/**' }]
  strategies: [{ name: five-at-once }]
`);

const RULES = [
  doc(`kind: ConcurrencyLimitStrategy
metadata: { name: five-at-once, labels: { app: demo } }
spec: { maxConcurrency: ${MAX}, limitMode: Local }
`),
  ...['burst', 'abort', 'reset', 'timeout', 'breaker', 'global', 'later', 'earlier'].map(limited),
  // After the slot: a breaker on /breaker/guarded (checked after the concurrency limit).
  doc(`kind: CircuitBreakerStrategy
metadata: { name: trips-fast, labels: { app: demo } }
spec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 60s, recoveryTimeout: 60s, minRequestAmount: 2 }
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: breaker-open, labels: { app: demo } }
spec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 503, responseContentBody: 'breaker open' } }
`),
  doc(`kind: FaultToleranceRule
metadata: { name: guarded, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/breaker/guarded' }]
  strategies: [{ name: trips-fast }]
  fallbackAction: breaker-open
`),
  // After the slot: a Global rate limit, asked after the local checks (the service's answer decides).
  doc(`kind: RateLimitStrategy
metadata: { name: shared-budget, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Global, threshold: 1000, statDurationSeconds: 60 }
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: over-budget, labels: { app: demo } }
spec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 429, responseContentBody: 'over budget' } }
`),
  doc(`kind: FaultToleranceRule
metadata: { name: budget, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/global/**' }]
  strategies: [{ name: shared-budget }]
  fallbackAction: over-budget
`),
].join('');

/**
 * Envoy's fault filter around sergo's: before it, requests with `x-abort-before` get a 503 local
 * reply that sergo never sees; after it (between sergo and the router, where Istio puts e.g. RBAC
 * when the WasmPlugin runs in the AUTHN phase), requests with `x-abort-after` get a 403 local reply
 * once sergo has admitted them.
 */
function withFaultFilters(bootstrap: string): string {
  const fault = (header: string, status: number) => ({
    name: 'envoy.filters.http.fault',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
      abort: { http_status: status, percentage: { numerator: 100, denominator: 'HUNDRED' } },
      headers: [{ name: header, present_match: true }],
    },
  });
  const doc = parseYaml(bootstrap) as { static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Array<{ name: string }> } }> }> }> } };
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
  const [sergo, ...rest] = hcm.http_filters;
  expect(sergo!.name).toBe('envoy.filters.http.wasm');
  hcm.http_filters = [fault('x-abort-before', 503), sergo!, fault('x-abort-after', 403), ...rest];
  return stringifyYaml(doc);
}

const [first, ...others] = await launchers('test/envoy/concurrency.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`ConcurrencyLimit in Envoy (${launcher.name}, 4 workers)`, () => {
    let upstream: Upstream;
    let rls: ScriptedRls;
    let rlsRefuses = false;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await Upstream.start();
      rls = await ScriptedRls.start(() => (rlsRefuses ? 429 : 200));
      envoy = await launcher.start({
        rules: RULES, upstreamPort: upstream.port, rlsPort: rls.port, concurrency: 4,
        translateArgs: ['--upstream-timeout', String(UPSTREAM_TIMEOUT), '--rls-timeout-ms', '2000'],
        rewrite: withFaultFilters,
      });
    });
    afterAll(async () => {
      await envoy?.stop();
      await rls?.close();
      await upstream?.close();
    });

    /**
     * `n` slow requests at once on connections of their own (spread over the workers): how many were
     * admitted (200) and refused (429), how many reached the upstream, and the most it had in flight.
     */
    async function burst(prefix: string, n = 3 * MAX): Promise<{ admitted: number; refused: number; reached: number; maxInFlight: number }> {
      await eventually(() => upstream.inFlight === 0, 5_000, 'the upstream to be idle');
      const tag = `b${Math.random().toString(36).slice(2, 8)}`;
      upstream.maxInFlight = 0;
      const replies = await Promise.all(Array.from({ length: n }, (_, i) => send(envoy.url, `${prefix}/${tag}?delay=${SLOW}&i=${i}`)));
      return {
        admitted: replies.filter((r) => r.status === 200).length,
        refused: replies.filter((r) => r.status === 429).length,
        reached: upstream.paths().filter((p) => p.startsWith(`${prefix}/${tag}?`)).length,
        maxInFlight: upstream.maxInFlight,
      };
    }

    const exactlyMax = { admitted: MAX, refused: 3 * MAX - MAX, reached: MAX, maxInFlight: MAX };

    it('admits exactly maxConcurrency of a burst of slow requests spread over the workers, never more in flight', async () => {
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => send(envoy.url, `/burst/x?delay=${SLOW}&i=${i}`)));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(MAX);
      const refused = replies.filter((r) => r.status === 429);
      expect(refused).toHaveLength(40 - MAX);
      for (const r of refused) expect(r.body).toBe('Blocked by sergo: ConcurrencyLimitStrategy\n');
      expect(upstream.maxInFlight).toBe(MAX);
      expect(upstream.paths().filter((p) => p.startsWith('/burst/x?'))).toHaveLength(MAX);
      expect(await workersUsed(envoy)).toBeGreaterThanOrEqual(2);
      // Finished requests gave their slots back.
      expect(await burst('/burst')).toEqual(exactlyMax);
    });

    it('clients that leave while their requests are upstream give the slots back', async () => {
      const leaving = Array.from({ length: MAX }, (_, i) => send(envoy.url, `/abort/x?hang=1&i=${i}`, { abortAfterMs: 400 }));
      await eventually(() => upstream.inFlight === MAX, 5_000, 'the hanging requests to reach the upstream');
      expect((await send(envoy.url, '/abort/other')).status).toBe(429);   // the slots are held
      for (const l of leaving) await expect(l).rejects.toThrow(/aborted by the client/);
      expect(await burst('/abort')).toEqual(exactlyMax);
    });

    it('upstream resets give the slots back', async () => {
      const replies = await Promise.all(Array.from({ length: MAX }, (_, i) => send(envoy.url, `/reset/x?reset=1&i=${i}`)));
      expect(replies.map((r) => r.status)).toEqual(Array(MAX).fill(503));
      expect(upstream.paths().filter((p) => p.startsWith('/reset/x?'))).toHaveLength(MAX);
      expect(await burst('/reset')).toEqual(exactlyMax);
    });

    it('upstream timeouts (the route timeout, --upstream-timeout) give the slots back', async () => {
      const started = Date.now();
      const replies = await Promise.all(Array.from({ length: MAX }, (_, i) => send(envoy.url, `/timeout/x?hang=1&i=${i}`)));
      expect(replies.map((r) => r.status)).toEqual(Array(MAX).fill(504));
      expect(replies[0]!.body).toBe('upstream request timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT);
      expect(await burst('/timeout')).toEqual(exactlyMax);
    });

    it('a local reply after the slot was taken (an open breaker) gives the slot back', async () => {
      for (let i = 0; i < 2; i++) expect((await send(envoy.url, '/breaker/guarded?status=500')).status).toBe(500);
      // Open now: each of these takes a concurrency slot, then the breaker blocks it (one after the
      // other, so that the limit itself never refuses one: 3 × MAX leaked slots would show).
      const blocked: string[] = [];
      for (let i = 0; i < 3 * MAX; i++) blocked.push((await send(envoy.url, '/breaker/guarded')).body);
      expect(blocked).toEqual(Array(3 * MAX).fill('breaker open'));
      expect(upstream.paths().filter((p) => p === '/breaker/guarded')).toHaveLength(0);
      expect(await burst('/breaker')).toEqual(exactlyMax);
    });

    it('a local reply after the slot was taken (the rate-limit service refuses a Global rule) gives the slot back', async () => {
      rlsRefuses = true;
      const before = rls.callsFor('/budget/').length;
      // One after the other: a request waiting for the service's answer holds its slot meanwhile.
      const blocked: string[] = [];
      for (let i = 0; i < 3 * MAX; i++) blocked.push((await send(envoy.url, '/global/x')).body);
      expect(blocked).toEqual(Array(3 * MAX).fill('over budget'));
      expect(rls.callsFor('/budget/').length - before).toBe(3 * MAX);   // each asked the service: after its slot
      rlsRefuses = false;
      expect(await burst('/global')).toEqual(exactlyMax);
    });

    it('a local reply by a later HTTP filter (after sergo admitted the request) gives the slot back', async () => {
      const replies = await Promise.all(Array.from({ length: MAX }, () => send(envoy.url, '/later/x', { headers: { 'x-abort-after': '1' } })));
      expect(replies.map((r) => r.status)).toEqual(Array(MAX).fill(403));
      expect(upstream.paths().filter((p) => p.startsWith('/later/x'))).toHaveLength(0);
      const faults = await envoy.stats('fault');
      expect(faults.get('http.ingress_http.fault.aborts_injected')).toBeGreaterThanOrEqual(MAX);
      expect(await burst('/later')).toEqual(exactlyMax);
    });

    it('a local reply by an earlier HTTP filter (sergo never sees the request) takes no slot', async () => {
      const replies = await Promise.all(Array.from({ length: 3 * MAX }, () => send(envoy.url, '/earlier/x', { headers: { 'x-abort-before': '1' } })));
      expect(replies.map((r) => r.status)).toEqual(Array(3 * MAX).fill(503));
      expect(await burst('/earlier')).toEqual(exactlyMax);
    });
  });
}
