// limitMode Global in real Envoy: two Envoys (2 workers each) share one rate-limit service and its
// Redis — sergo rls, and Envoy's reference service (envoyproxy/ratelimit) with the configuration
// file docs/rls.md gives. The same scenarios run against both; where the services differ (fixed
// calendar windows against sliding ones, an unknown domain), each test states what each one does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, get, launchers, send, sleep, workersUsed, type Reply, type RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';
import { rateLimitServices, type RunningService } from './rls-support.ts';
import { rateLimitStrategy, yamlStream } from './rules.ts';
import { RedisChild } from '../rls/support.ts';

const SUITE = 'test/envoy/global.test.ts';

const global = (name: string, threshold: number, statDurationSeconds: number, more: { failOpen?: boolean; batch?: number } = {}) =>
  rateLimitStrategy({ name, limitMode: 'Global', threshold, statDurationSeconds, ...more });

const RULES = yamlStream(
  global('twenty-per-hour', 20, 3600),
  global('three-per-second', 3, 1),
  global('two-per-5s', 2, 5),
  global('closed-thousand', 1000, 60),
  global('open-thousand', 1000, 60, { failOpen: true }),
  global('twenty-per-hour-in-fives', 20, 3600, { batch: 5 }),
) + `---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: global-limit, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 429
    responseContentBody: '{"error":"global limit"}'
    responseAdditionalHeaders: [{ key: x-sergo, value: global }, { key: content-type, value: application/json }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: service-down, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc: { responseStatusCode: 503, responseContentBody: 'rate limit service down' }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: burst, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: 'GET:/burst' }]
  strategies: [{ name: twenty-per-hour }]
  fallbackAction: global-limit
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: edge, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/edge' }]
  strategies: [{ name: three-per-second }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: five, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/five' }]
  strategies: [{ name: two-per-5s }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: batched, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/batched' }]
  strategies: [{ name: twenty-per-hour-in-fives }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: closed, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/closed' }]
  strategies: [{ name: closed-thousand }]
  fallbackAction: service-down
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: open, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/open' }]
  strategies: [{ name: open-thousand }]
`;

// A deadline far above the service's latency on a loaded machine: an error here would hide a count.
const TRANSLATE_ARGS = ['--rls-timeout-ms', '2000'];

const [first, ...others] = await launchers(SUITE);
const services = first === undefined ? [] : rateLimitServices(SUITE);

/** Sum over both Envoys of one sergo counter of one rule (`rls_errors`, `rls_failed_open`, …). */
async function counter(envoys: RunningEnvoy[], rule: string, name: string): Promise<number> {
  let sum = 0;
  for (const envoy of envoys) {
    for (const [stat, value] of await envoy.stats(`${name}$`)) {
      if (stat.includes(`sergo_namespace=.=default;.;sergo_app=.=demo;.;sergo_rule=.=${rule};.;`) && stat.endsWith(`;.;${name}`)) sum += value;
    }
  }
  return sum;
}

/** Sum over both Envoys of a stat of the rate-limit service's cluster (0 while Envoy has not made it). */
async function clusterStat(envoys: RunningEnvoy[], name: string): Promise<number> {
  let sum = 0;
  for (const envoy of envoys) sum += (await envoy.stats(`^cluster\\.sergo_rls\\.${name}$`)).get(`cluster.sergo_rls.${name}`) ?? 0;
  return sum;
}

/** `n` requests at once, each on its own connection, alternating between the Envoys. */
function burst(envoys: RunningEnvoy[], path: string, n: number): Promise<Reply[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => send(envoys[i % envoys.length]!.url, path)));
}

/** Every reply is the service-error reply of a rule with failOpen false (issue 12: 500 and a header
 *  that say the service failed, not the rule's own over-limit fallback). */
function expectServiceDownFallback(replies: Reply[]): void {
  for (const r of replies) {
    expect([r.status, r.body]).toEqual([500, 'Refused by sergo: the rate-limit service is unavailable\n']);
    expect(r.headers['x-sergo-ratelimit-service']).toBe('unavailable');
  }
}

const admitted = (replies: Reply[]) => replies.filter((r) => r.status === 200).length;

/** Waits until the wall clock is `ms` into a second (0..999). */
async function untilMsOfSecond(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, (ms - (Date.now() % 1000) + 1000) % 1000));
}

/**
 * A burst of `n` at 0.5 s into a second and another just after the next second began. A try counts
 * when the first burst was answered before that boundary and both ended within `maxSpanMs`; a
 * machine too busy for that tries again, after `pauseMs` to let the try's hits leave the window.
 */
async function burstsAcrossASecond(envoys: RunningEnvoy[], path: string, n: number, maxSpanMs: number, pauseMs: number): Promise<{ early: Reply[]; late: Reply[] }> {
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(pauseMs);
    await untilMsOfSecond(500);
    const start = Date.now();
    const boundary = start - (start % 1000) + 1000;
    const early = await burst(envoys, path, n);
    const earlyDone = Date.now();
    await untilMsOfSecond(20);
    const late = await burst(envoys, path, n);
    if (earlyDone < boundary && Date.now() - start < maxSpanMs) return { early, late };
  }
  throw new Error(`no try fitted the two bursts on ${path} around a second boundary within ${maxSpanMs} ms (machine too busy)`);
}

/** Stays clear of the edge of a calendar hour, where the reference service's hour window rolls. */
async function awayFromHourEdge(): Promise<void> {
  const intoHour = Date.now() % 3_600_000;
  if (intoHour > 3_600_000 - 15_000) await new Promise((r) => setTimeout(r, 3_600_000 - intoHour + 100));
}

for (const launcher of first === undefined ? [] : [first, ...others]) {
  for (const service of services) {
    describe(`limitMode Global in Envoy (${launcher.name}, ${service.name}, 2 Envoys × 2 workers)`, () => {
      let redis: RedisChild;
      let rls: RunningService;
      let upstream: Upstream;
      let envoys: RunningEnvoy[] = [];

      beforeAll(async () => {
        redis = await RedisChild.start();
        rls = await service.start(redis);
        upstream = await Upstream.start();
        const options = { rules: RULES, upstreamPort: upstream.port, concurrency: 2, rlsPort: rls.httpPort, translateArgs: TRANSLATE_ARGS };
        envoys = await Promise.all([launcher.start(options), launcher.start(options)]);
      });
      afterAll(async () => {
        await Promise.all(envoys.map((e) => e.stop()));
        await rls?.kill();
        await upstream?.close();
        await redis?.dispose();
      });

      it('admits exactly the threshold of a burst spread over both Envoys and their workers, the fallback byte for byte', async () => {
        await awayFromHourEdge();
        const replies = await burst(envoys, '/burst', 60);
        expect(admitted(replies)).toBe(20);
        const blocked = replies.filter((r) => r.status !== 200);
        expect(blocked).toHaveLength(40);
        for (const r of blocked) {
          expect(r.status).toBe(429);
          expect(r.body).toBe('{"error":"global limit"}');
          expect(r.headers['x-sergo']).toBe('global');
          expect(r.headers['content-type']).toBe('application/json');
        }
        expect(upstream.paths().filter((p) => p === '/burst')).toHaveLength(20);
        // Every request was decided by the service, 30 calls from each Envoy, none failed.
        expect(await counter(envoys, 'burst', 'rls_errors')).toBe(0);
        for (const envoy of envoys) {
          const answers = (await counter([envoy], 'burst', 'rls_ok')) + (await counter([envoy], 'burst', 'rls_over_limit'));
          expect(answers).toBe(30);
        }
        expect(await counter(envoys, 'burst', 'rls_ok')).toBe(20);
        expect(await counter(envoys, 'burst', 'rls_over_limit')).toBe(40);
        expect(Math.max(...(await Promise.all(envoys.map(workersUsed))))).toBe(2);
      });

      it(service.windows === 'fixed'
        ? 'fixed calendar windows: a burst at the end of one second and one at the start of the next both get the threshold'
        : 'sliding window: a burst at the end of one second and one at the start of the next share the threshold', async () => {
        // threshold 3 per second; both bursts within 0.95 s, less than the window.
        const { early, late } = await burstsAcrossASecond(envoys, '/edge', 6, 950, 1_200);
        expect(admitted(early)).toBe(3);
        expect(admitted(early) + admitted(late)).toBe(service.windows === 'fixed' ? 6 : 3);
        expect(await counter(envoys, 'edge', 'rls_errors')).toBe(0);
      });

      it(service.windows === 'fixed'
        ? 'a 5 s window (sergo_window_ms) is counted per second: the threshold again in the next second'
        : 'a 5 s window (sergo_window_ms) holds for 5 s: nothing more in the next second', async () => {
        // threshold 2 per 5 s; both bursts well within 5 s.
        const { early, late } = await burstsAcrossASecond(envoys, '/five', 3, 4_000, 5_500);
        expect(admitted(early)).toBe(2);
        expect(admitted(early) + admitted(late)).toBe(service.windows === 'fixed' ? 4 : 2);
        expect(await counter(envoys, 'five', 'rls_errors')).toBe(0);
      });

      it('batch 5: never more than the threshold across both Envoys, in at most threshold / 5 granted calls', async () => {
        await awayFromHourEdge();
        const first = admitted(await burst(envoys, '/batched', 60));
        const second = admitted(await burst(envoys, '/batched', 20));
        expect(first).toBeGreaterThan(0);
        expect(first + second).toBeLessThanOrEqual(20);
        const granted = await counter(envoys, 'batched', 'rls_ok');
        expect(granted).toBeLessThanOrEqual(4);   // 5 hits per call, 20 per window
        expect(first + second).toBeLessThanOrEqual(granted * 5);
        const calls = granted + (await counter(envoys, 'batched', 'rls_over_limit'));
        expect(calls).toBeLessThan(80);
        expect(await counter(envoys, 'batched', 'rls_errors')).toBe(0);
        console.log(`${service.name}, batch 5: ${first} + ${second} admitted of 80 with ${calls} calls (${granted} granted)`);
      });

      // Registered for the reference service only (not skipped for the other: they do not apply to it).
      const referenceOnly = (title: string, fn: () => Promise<void>) => {
        if (service.name === 'envoyproxy/ratelimit') it(title, fn);
      };

      referenceOnly('the reference service does not limit a domain its configuration lacks (docs/rls.md)', async () => {
        // The body the filter sends, for a domain other than the configured one.
        const body = (domain: string) => JSON.stringify({ domain, descriptors: [{ entries: [{ key: 'sergo_rule', value: 'unconfigured' }],
          limit: { requests_per_unit: 1, unit: 'HOUR' } }], hits_addend: 1 });
        const call = async (domain: string) => {
          const res = await fetch(`http://127.0.0.1:${rls.httpPort}/json`, { method: 'POST', body: body(domain) });
          return [res.status, (await res.json() as { overallCode: string }).overallCode];
        };
        expect([await call('sergo'), await call('sergo')]).toEqual([[200, 'OK'], [429, 'OVER_LIMIT']]);
        expect([await call('elsewhere'), await call('elsewhere'), await call('elsewhere')]).toEqual(Array(3).fill([200, 'OK']));
      });

      referenceOnly('the reference service does not start while Redis is unreachable (docs/rls.md)', async () => {
        const nobody = await freePort();
        await expect(service.start(new RedisChild(nobody))).rejects.toThrow(/exited with code [1-9]/);
      });

      it('Redis hung, then down: the fail policy decides (errors counted), and requests are admitted again when Redis is back', async () => {
        expect((await send(envoys[0]!.url, '/closed')).status).toBe(200);
        const errorsBefore = await counter(envoys, 'closed', 'rls_errors');
        const timeoutsBefore = await clusterStat(envoys, 'upstream_rq_timeout');
        redis.pause();   // sergo rls answers 503 after its Redis deadline; the reference service never answers: the filter's timeout decides
        let hung: Reply[];
        const started = Date.now();
        try {
          hung = await burst(envoys, '/closed', 2);
        } finally {
          redis.resume();
        }
        expectServiceDownFallback(hung);
        // The reference service answered nothing: Envoy's async client ended both calls at the
        // filter's 2 s timeout (sergo rls answers 503 after its own 1 s Redis deadline).
        if (service.name === 'envoyproxy/ratelimit') {
          expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
          expect(await clusterStat(envoys, 'upstream_rq_timeout') - timeoutsBefore).toBe(2);
        }
        await redis.kill();   // both services fail at once: sergo rls 503, the reference service 400
        const closed = await burst(envoys, '/closed', 2);
        const open = await burst(envoys, '/open', 2);
        expectServiceDownFallback(closed);
        expect(open.map((r) => r.status)).toEqual([200, 200]);
        expect(await counter(envoys, 'closed', 'rls_errors')).toBe(errorsBefore + 4);
        expect(await counter(envoys, 'open', 'rls_failed_open')).toBe(2);
        // sergo rls' health check asks Redis; the reference service's stays 200 (docs/rls.md).
        expect((await get(`http://127.0.0.1:${rls.httpPort}${service.health.path}`)).status).toBe(service.health.whileRedisDown);
        await redis.start();
        // Back to normal: a burst of 12 all admitted (12 calls at once touch every connection of the
        // reference service's Redis pool, REDIS_POOL_SIZE 10; each that Redis closed fails once).
        let failures = 0;
        await eventually(async () => {
          const replies = await burst(envoys, '/closed', 12);
          failures += replies.length - admitted(replies);
          return admitted(replies) === 12;
        }, 15_000, 'admitted again once Redis is back');
        console.log(`${service.name}: ${failures} requests failed after Redis came back`);
      });

      it('service down: a closed rule blocks with its fallback, an open rule admits, both counted in Envoy\'s stats', async () => {
        for (const envoy of envoys) {
          expect((await send(envoy.url, '/closed')).status).toBe(200);
          expect((await send(envoy.url, '/open')).status).toBe(200);
        }
        const before = {
          closed: await counter(envoys, 'closed', 'rls_errors'),
          open: await counter(envoys, 'open', 'rls_errors'),
          failedOpen: await counter(envoys, 'open', 'rls_failed_open'),
          closedSeen: upstream.paths().filter((p) => p === '/closed').length,
          openSeen: upstream.paths().filter((p) => p === '/open').length,
          refused503: await clusterStat(envoys, 'upstream_rq_503'),
        };
        await rls.kill();
        const closed = await burst(envoys, '/closed', 6);
        const open = await burst(envoys, '/open', 6);
        expectServiceDownFallback(closed);
        expect(open.map((r) => r.status)).toEqual(Array(6).fill(200));
        expect(await counter(envoys, 'closed', 'rls_errors')).toBe(before.closed + 6);
        expect(await counter(envoys, 'closed', 'rls_failed_open')).toBe(0);
        expect(await counter(envoys, 'open', 'rls_errors')).toBe(before.open + 6);
        expect(await counter(envoys, 'open', 'rls_failed_open')).toBe(before.failedOpen + 6);
        expect(upstream.paths().filter((p) => p === '/closed')).toHaveLength(before.closedSeen);
        expect(upstream.paths().filter((p) => p === '/open')).toHaveLength(before.openSeen + 6);
        // In Envoy a call to a dead service is no failed call: the async client answers the module
        // 503 itself (its router's local reply; src/serve/rls-forward.ts mirrors it).
        expect(await clusterStat(envoys, 'upstream_rq_503') - before.refused503).toBe(12);
      });
    });
  }
}
