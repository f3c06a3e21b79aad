// CircuitBreakerStrategy in real Envoy (4 workers): ErrorRequestRatio and SlowRequestRatio trip at
// exactly minRequestAmount and triggerRatio, one probe across all workers after recoveryTimeout (a
// burst at half-open sends exactly one request upstream), a good probe closes, a bad one reopens;
// the breaker_state gauge and breaker_transitions{from,to} counters as Envoy's stats show them; an
// upstream reset or timeout (answered by Envoy's router itself, 503/504) is an error whatever the
// error statuses say.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchers, send, sleep, workersUsed, type RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';
import { TRANSITION_ORDER } from '../../src/emit/metrics.ts';

const RECOVERY = 800;
/** SlowRequestRatio: slower than this is slow; the slow requests take SLOW ms. */
const MAX_RT = 100;
const SLOW = 300;
/** How long the probe takes: every request of the half-open burst arrives while it is upstream. */
const PROBE_MS = 500;
/** The route timeout (`sergo translate --upstream-timeout`). */
const UPSTREAM_TIMEOUT = 1_000;

const doc = (text: string) => `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\n${text}`;
const rule = (name: string, strategy: string) => doc(`kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/${name}/**' }]
  strategies: [{ name: ${strategy} }]
  fallbackAction: resting
`);

const RULES = [
  doc(`kind: CircuitBreakerStrategy
metadata: { name: errors, labels: { app: demo } }
spec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 60s, recoveryTimeout: ${RECOVERY}ms, minRequestAmount: 4 }
`),
  doc(`kind: CircuitBreakerStrategy
metadata: { name: slowness, labels: { app: demo } }
spec:
  strategy: SlowRequestRatio
  triggerRatio: '50%'
  statDuration: 60s
  recoveryTimeout: ${RECOVERY}ms
  minRequestAmount: 4
  slowConditions: { maxAllowedRt: ${MAX_RT}ms }
`),
  doc(`kind: CircuitBreakerStrategy
metadata: { name: only-500, labels: { app: demo } }
spec:
  strategy: ErrorRequestRatio
  triggerRatio: '50%'
  statDuration: 60s
  recoveryTimeout: 60s
  minRequestAmount: 4
  errorConditions: { statusCodes: [500] }
`),
  doc(`kind: HttpRequestFallbackAction
metadata: { name: resting, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc: { responseStatusCode: 503, responseContentBody: 'resting', responseAdditionalHeaders: [{ key: x-sergo-breaker, value: open }] }
`),
  rule('erroring', 'errors'), rule('slow', 'slowness'), rule('recovers', 'errors'), rule('relapses', 'errors'),
  rule('narrow', 'only-500'),
].join('');

const STATES = ['closed', 'open', 'half_open'] as const;
type State = (typeof STATES)[number];

const [first, ...others] = await launchers('test/envoy/breaker.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`CircuitBreaker in Envoy (${launcher.name}, 4 workers)`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await Upstream.start();
      envoy = await launcher.start({
        rules: RULES, upstreamPort: upstream.port, concurrency: 4, translateArgs: ['--upstream-timeout', String(UPSTREAM_TIMEOUT)],
      });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    const reached = (prefix: string) => upstream.paths().filter((p) => p.startsWith(prefix)).length;
    const status = async (path: string) => (await send(envoy.url, path)).status;

    /** The rule's breaker_state gauge and its transition counters, from Envoy's /stats. */
    async function breaker(name: string, strategy: string): Promise<{ state: number | undefined; transitions: Partial<Record<`${State}>${State}`, number>> }> {
      const stats = await envoy.stats('wasmcustom');
      const tags = `sergo_namespace=.=default;.;sergo_app=.=demo;.;sergo_rule=.=${name};.;sergo_resource=.=/${name}/**;.;` +
        `sergo_strategy=.=CircuitBreaker;.;sergo_strategy_name=.=${strategy};.;`;
      const transitions: Partial<Record<`${State}>${State}`, number>> = {};
      for (const from of STATES) {
        for (const to of STATES) {
          if (from === to) continue;
          const value = stats.get(`wasmcustom.sergo.${tags}sergo_from=.=${from};.;sergo_to=.=${to};.;breaker_transitions`);
          // a counter for each of the state machine's four transitions, none for the two it lacks
          const exists = TRANSITION_ORDER.includes(`${from}>${to}`);
          expect(value === undefined, `${from}>${to} is ${exists ? '' : 'not '}defined`).toBe(!exists);
          if (value! > 0) transitions[`${from}>${to}`] = value;
        }
      }
      return { state: stats.get(`wasmcustom.sergo.${tags}breaker_state`), transitions };
    }

    it('ErrorRequestRatio: trips at exactly minRequestAmount and triggerRatio, then answers with the fallback', async () => {
      // 2 errors of 3: the ratio is over, the amount is not; a 4th (good) one makes 2/4 = 50 %: open.
      expect(await status('/erroring/a?status=500')).toBe(500);
      expect(await status('/erroring/b?status=200')).toBe(200);
      expect(await status('/erroring/c?status=502')).toBe(502);
      expect(await breaker('erroring', 'errors')).toEqual({ state: 0, transitions: {} });
      expect(await status('/erroring/d?status=200')).toBe(200);
      const blocked = await send(envoy.url, '/erroring/e');
      expect(blocked.status).toBe(503);
      expect(blocked.body).toBe('resting');
      expect(blocked.headers['x-sergo-breaker']).toBe('open');
      expect(reached('/erroring/')).toBe(4);
      expect(await breaker('erroring', 'errors')).toEqual({ state: 1, transitions: { 'closed>open': 1 } });
      expect(await workersUsed(envoy)).toBeGreaterThanOrEqual(2);
    });

    it('SlowRequestRatio: a response slower than maxAllowedRt is slow; trips at exactly the ratio', async () => {
      for (const p of ['a', 'b', 'c']) expect(await status(`/slow/${p}`)).toBe(200);
      expect(await status(`/slow/d?delay=${SLOW}`)).toBe(200);   // 1 slow of 4: 25 %
      expect(await status(`/slow/e?delay=${SLOW}`)).toBe(200);   // 2 of 5: 40 %
      expect(await breaker('slow', 'slowness')).toEqual({ state: 0, transitions: {} });
      expect(await status(`/slow/f?delay=${SLOW}`)).toBe(200);   // 3 of 6: 50 %, open
      expect(await status('/slow/g')).toBe(503);
      expect(reached('/slow/')).toBe(6);
      expect(await breaker('slow', 'slowness')).toEqual({ state: 1, transitions: { 'closed>open': 1 } });
    });

    it('an upstream reset or timeout is an error even when the error statuses leave out the 503/504 Envoy answers it with', async () => {
      // statusCodes [500]: the upstream's own 503s are not errors…
      expect(await status('/narrow/a?status=503')).toBe(503);
      expect(await status('/narrow/b?status=503')).toBe(503);
      // …but a reset (Envoy: 503, upstream_reset_before_response_started) and a timeout (504,
      // response_timeout) are: 2 of 4, 50 %, open.
      const reset = await send(envoy.url, '/narrow/c?reset=1');
      expect([reset.status, reset.body]).toEqual([503, expect.stringMatching(/^upstream connect error or disconnect\/reset before headers/)]);
      expect(await breaker('narrow', 'only-500')).toEqual({ state: 0, transitions: {} });
      const timeout = await send(envoy.url, '/narrow/d?hang=1');
      expect([timeout.status, timeout.body]).toEqual([504, 'upstream request timeout']);
      const blocked = await send(envoy.url, '/narrow/e');
      expect([blocked.status, blocked.body]).toEqual([503, 'resting']);
      expect(reached('/narrow/')).toBe(4);
      expect(await breaker('narrow', 'only-500')).toEqual({ state: 1, transitions: { 'closed>open': 1 } });
    });

    /** Opens the rule's breaker with 4 errors; returns when it opened (ms, this clock). */
    async function trip(name: string): Promise<number> {
      for (let i = 0; i < 4; i++) expect(await status(`/${name}/trip?status=500&i=${i}`)).toBe(500);
      const openedAt = Date.now();
      expect(await status(`/${name}/check`)).toBe(503);
      return openedAt;
    }

    /** A burst at half-open: 12 slow requests at once over the workers; how many reached the upstream. */
    async function probeBurst(name: string, query: string): Promise<{ statuses: number[]; reached: number }> {
      const tag = `/${name}/probe-${Math.random().toString(36).slice(2, 8)}`;
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => send(envoy.url, `${tag}?delay=${PROBE_MS}&${query}&i=${i}`)));
      return { statuses: replies.map((r) => r.status).sort(), reached: reached(`${tag}?`) };
    }

    it('after recoveryTimeout exactly one probe passes across the workers; its success closes the breaker', async () => {
      const openedAt = await trip('recovers');
      await sleep(RECOVERY / 2);
      expect(await status('/recovers/early')).toBe(503);   // still open before recoveryTimeout
      await sleep(Math.max(0, openedAt + RECOVERY + 50 - Date.now()));
      const probe = await probeBurst('recovers', 'status=200');
      expect(probe.reached).toBe(1);
      expect(probe.statuses).toEqual([200, ...Array(11).fill(503)]);
      // Closed with fresh statistics: everything passes again.
      const after = await Promise.all(Array.from({ length: 8 }, (_, i) => status(`/recovers/after?i=${i}`)));
      expect(after).toEqual(Array(8).fill(200));
      expect(await breaker('recovers', 'errors')).toEqual({
        state: 0, transitions: { 'closed>open': 1, 'open>half_open': 1, 'half_open>closed': 1 },
      });
    });

    it('a failed probe reopens the breaker for another recoveryTimeout', async () => {
      const openedAt = await trip('relapses');
      await sleep(Math.max(0, openedAt + RECOVERY + 50 - Date.now()));
      const probe = await probeBurst('relapses', 'status=500');
      expect(probe.reached).toBe(1);
      expect(probe.statuses).toEqual([500, ...Array(11).fill(503)]);
      const reopenedAt = Date.now();
      expect(await status('/relapses/again')).toBe(503);
      expect(await breaker('relapses', 'errors')).toEqual({
        state: 1, transitions: { 'closed>open': 1, 'open>half_open': 1, 'half_open>open': 1 },
      });
      // A new deadline: the next probe only after another recoveryTimeout; this one succeeds.
      await sleep(Math.max(0, reopenedAt + RECOVERY + 50 - Date.now()));
      expect(await status('/relapses/probe2')).toBe(200);
      expect(await status('/relapses/closed')).toBe(200);
      expect(await breaker('relapses', 'errors')).toEqual({
        state: 0, transitions: { 'closed>open': 1, 'open>half_open': 2, 'half_open>open': 1, 'half_open>closed': 1 },
      });
    });
  });
}
