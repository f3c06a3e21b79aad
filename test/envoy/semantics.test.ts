// Where sergo now behaves as Sentinel does (issue 18, docs/semantics.md), in real Envoy (2 workers):
//  * a client that leaves before the response is not an upstream error, while an upstream reset is:
//    Envoy tells them apart (response flags DC and UC, code details downstream_remote_disconnect and
//    upstream_reset_before_response_started{…}); the filter sees the reset as the router's own 503
//    and the departure as a stream that ends without response headers;
//  * the checks after pacing run when Envoy's timer releases the request: a breaker that opened
//    meanwhile answers it with its fallback (a local reply sent from on_tick), and a concurrency
//    slot is taken only then.
// The bootstrap is the emitted one, with its access log sent to stderr with the flags and details
// (so that the test can read Envoy's own verdict). SERGO_TEST_WASM runs another build of the module
// (every test here failed with the module before issue 18's fixes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually, launchers, send, type Reply, type RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';

/** Minimum interval of the paced rules: long enough that the first request has its answer before
 *  the second one is released, even on a loaded machine. */
const INTERVAL = 1_500;

const doc = (text: string) => `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\n${text}`;
const rule = (name: string, strategies: string[], fallback: string) => doc(`kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/${name}/**' }]
  strategies: [${strategies.map((s) => `{ name: ${s} }`).join(', ')}]
  fallbackAction: ${fallback}
`);
const fallback = (name: string, body: string) => doc(`kind: HttpRequestFallbackAction
metadata: { name: ${name}, labels: { app: demo } }
spec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 503, responseContentBody: '${body}' } }
`);

const RULES = [
  doc(`kind: CircuitBreakerStrategy
metadata: { name: two-errors, labels: { app: demo } }
spec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 60s, recoveryTimeout: 60s, minRequestAmount: 2 }
`),
  doc(`kind: CircuitBreakerStrategy
metadata: { name: one-error, labels: { app: demo } }
spec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 60s, recoveryTimeout: 60s, minRequestAmount: 1 }
`),
  doc(`kind: ThrottlingStrategy
metadata: { name: pace, labels: { app: demo } }
spec: { minIntervalOfRequests: ${INTERVAL}ms, queueTimeout: ${3 * INTERVAL}ms }
`),
  doc(`kind: ConcurrencyLimitStrategy
metadata: { name: one-at-a-time, labels: { app: demo } }
spec: { maxConcurrency: 1, limitMode: Local }
`),
  fallback('resting', 'resting'), fallback('busy', 'busy'),
  rule('leave', ['two-errors'], 'resting'),
  rule('paced', ['pace', 'one-error'], 'resting'),
  rule('held', ['pace', 'one-at-a-time'], 'busy'),
].join('');

/** The emitted bootstrap with its access log on stderr, showing Envoy's flags and code details. */
function accessLogOnStderr(bootstrap: string): string {
  const config = parse(bootstrap);
  const hcm = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  hcm.access_log = [{
    name: 'envoy.access_loggers.stderr',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog',
      log_format: { text_format_source: { inline_string: 'ACCESS %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\n' } },
    },
  }];
  return stringify(config);
}

const [first, ...others] = await launchers('test/envoy/semantics.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`Semantics as Sentinel's in Envoy (${launcher.name}, 2 workers)`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;
    let stopped = false;

    beforeAll(async () => {
      upstream = await Upstream.start();
      envoy = await launcher.start({
        rules: RULES, upstreamPort: upstream.port, concurrency: 2, rewrite: accessLogOnStderr,
        translateArgs: ['--upstream-timeout', '10000'], module: process.env.SERGO_TEST_WASM,
      });
    });
    afterAll(async () => {
      if (!stopped) await envoy?.stop();
      await upstream?.close();
    });

    const reached = (prefix: string) => upstream.paths().filter((p) => p.startsWith(prefix));
    const breakerState = async (name: string, strategy: string) => {
      const stats = await envoy.stats('wasmcustom');
      return stats.get(`wasmcustom.sergo.sergo_namespace=.=default;.;sergo_app=.=demo;.;sergo_rule=.=${name};.;` +
        `sergo_resource=.=/${name}/**;.;sergo_strategy=.=CircuitBreaker;.;sergo_strategy_name=.=${strategy};.;breaker_state`);
    };
    const settled = () => eventually(async () => (await envoy.stats('downstream_rq_active')).get('http.ingress_http.downstream_rq_active') === 0,
      10_000, 'every stream to end');

    it('clients that leave before the response do not open an error-ratio breaker; an upstream reset does', async () => {
      const leaving = [0, 1].map((i) => send(envoy.url, `/leave/gone?hang=1&i=${i}`, { abortAfterMs: 500 }));
      for (const request of leaving) await expect(request).rejects.toThrow(/aborted by the client/);
      expect(reached('/leave/gone')).toHaveLength(2);           // both were forwarded
      await settled();
      expect(await breakerState('leave', 'two-errors')).toBe(0);
      expect((await send(envoy.url, '/leave/ok')).status).toBe(200);   // before: 503, open after 2 "errors"
      // The upstream resets: 1 bad of 2, open.
      const reset = await send(envoy.url, '/leave/reset?reset=1');
      expect(reset.status).toBe(503);
      expect(await breakerState('leave', 'two-errors')).toBe(1);
      const after = await send(envoy.url, '/leave/after');
      expect([after.status, after.body]).toEqual([503, 'resting']);
      expect(reached('/leave/after')).toHaveLength(0);
    });

    it('a breaker that opened while a request waited for its pacing slot refuses it when Envoy\'s timer releases it', async () => {
      const sent = Date.now();
      const replies = await Promise.all([0, 1].map((i) => send(envoy.url, `/paced/x?status=500&i=${i}`).then((r) => ({ ...r, at: Date.now() }))));
      const [forwarded, refused] = [...replies].sort((a, b) => a.at - b.at) as [Reply & { at: number }, Reply & { at: number }];
      expect(forwarded.status).toBe(500);                        // the first opens the breaker (1 of 1)
      expect([refused.status, refused.body]).toEqual([503, 'resting']);   // before: forwarded, 500
      expect(refused.at - sent).toBeGreaterThanOrEqual(INTERVAL - 50);    // refused at its slot, not at once
      expect(reached('/paced/')).toHaveLength(1);
      expect(await breakerState('paced', 'one-error')).toBe(1);
    });

    it('a request waiting for its pacing slot holds no concurrency slot: it takes one when released', async () => {
      const replies = await Promise.all([0, 1].map((i) => send(envoy.url, `/held/x?delay=200&i=${i}`)));
      expect(replies.map((r) => r.status)).toEqual([200, 200]);   // before: one refused with 'busy'
      expect(reached('/held/')).toHaveLength(2);
    });

    it("Envoy's own access log tells the departures from the upstream reset (flags DC and UC)", async () => {
      await settled();
      await envoy.stop();   // the access log is flushed when Envoy exits
      stopped = true;
      const lines = envoy.logs().split('\n').filter((l) => l.startsWith('ACCESS /leave/'));
      expect(lines.filter((l) => l.startsWith('ACCESS /leave/gone'))).toEqual([
        expect.stringMatching(/^ACCESS \/leave\/gone\?hang=1&i=\d 0 DC downstream_remote_disconnect$/),
        expect.stringMatching(/^ACCESS \/leave\/gone\?hang=1&i=\d 0 DC downstream_remote_disconnect$/),
      ]);
      expect(lines).toContain('ACCESS /leave/reset?reset=1 503 UC upstream_reset_before_response_started{connection_termination}');
      expect(lines.filter((l) => l.startsWith('ACCESS /leave/after'))).toEqual([expect.stringMatching(/^ACCESS \/leave\/after 503 \S+ sergo_blocked$/)]);
    });
  });
}
