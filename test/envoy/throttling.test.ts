// ThrottlingStrategy in real Envoy (4 workers): paused requests are resumed by Envoy's own timers
// (on_tick, nothing else happens meanwhile), in slot order, spaced by the interval; slots beyond the
// queue timeout are refused at once; a client that leaves while queued gives its slot back.
// Times are measured where the pacing matters, at the upstream (Upstream.seen[].at).
import { describe, expect, it } from 'vitest';
import { launchers, send, sleep, workersUsed, type Reply } from './harness.ts';
import { envoyOverUpstream } from './suite.ts';

/** minIntervalOfRequests. The tick period is gcd(100 ms, intervals) (README "Throttling"). */
const INTERVAL = 250;
const TICK = 50;
/** queueTimeout: slots up to 4 intervals ahead are queued, the fifth one ahead is refused. */
const QUEUE_TIMEOUT = 1_000;
/**
 * Lower bounds are exact: a slot is never earlier than Envoy's clock when the request arrived, so
 * never earlier than the client's clock when it was sent (same machine, same clock). Upper bounds and
 * spacings are measured between arrivals at the upstream, where a busy machine (several Envoys and
 * test processes on 2 cores) delays an arrival's timestamp by tens of ms: they allow this much (ms),
 * still far from what unpaced (spacing ~0) or unreturned slots (+1 interval) would show.
 */
const SLACK = 100;

const strategy = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: ThrottlingStrategy
metadata: { name: pace, labels: { app: demo } }
spec: { minIntervalOfRequests: ${INTERVAL}ms, queueTimeout: ${QUEUE_TIMEOUT}ms }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: wait-your-turn, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc: { responseStatusCode: 429, responseContentBody: 'queue full', responseAdditionalHeaders: [{ key: x-sergo, value: paced }] }
`;

/** One rule (and so one slot record) per scenario, so that scenarios do not share slots. */
function rule(name: string, path: string): string {
  return `---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '${path}' }]
  strategies: [{ name: pace }]
  fallbackAction: wait-your-turn
`;
}

const RULES = strategy + rule('order', '/order') + rule('timeout', '/timeout') + rule('leave', '/leave');

const [first, ...others] = await launchers('test/envoy/throttling.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`Throttling in Envoy (${launcher.name}, 4 workers)`, () => {
    const suite = envoyOverUpstream(launcher, { rules: RULES, concurrency: 4 });

    /** When each path reached the upstream (ms, upstream clock), in arrival order. */
    const arrivals = (prefix: string) => suite.upstream.seen.filter((s) => s.path.startsWith(prefix)).map((s) => ({ path: s.path, at: s.at }));

    it('resumes paused requests from its timers alone, in slot order, spaced by the interval (minus at most one tick)', async () => {
      // Sent 30 ms apart, each on its own connection (any worker): request k takes slot k·INTERVAL.
      const pending: Promise<Reply>[] = [];
      const sent0 = Date.now();
      for (let k = 0; k < 5; k++) {
        pending.push(send(suite.envoy.url, `/order?k=${k}`));
        await sleep(30);
      }
      // Nothing else reaches Envoy from now on: every resume comes from a tick.
      const replies = await Promise.all(pending);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const seen = arrivals('/order');
      expect(seen.map((s) => s.path)).toEqual(['/order?k=0', '/order?k=1', '/order?k=2', '/order?k=3', '/order?k=4']);
      const t0 = seen[0]!.at;   // slot 0 (at most this): forwarded at once
      for (let k = 1; k < seen.length; k++) {
        // On the first tick at or after its slot: never before the slot, at most one tick after it.
        expect(seen[k]!.at - sent0).toBeGreaterThanOrEqual(k * INTERVAL);
        expect(seen[k]!.at - t0).toBeLessThanOrEqual(k * INTERVAL + TICK + SLACK);
        expect(seen[k]!.at - seen[k - 1]!.at).toBeGreaterThanOrEqual(INTERVAL - TICK - SLACK);
      }
      expect(await workersUsed(suite.envoy)).toBeGreaterThanOrEqual(2);
      const stats = await suite.envoy.stats('wasmcustom');
      const rule = 'sergo_namespace=.=default;.;sergo_app=.=demo;.;sergo_rule=.=order;.;sergo_resource=.=/order;.;sergo_strategy=.=Throttling;.;sergo_strategy_name=.=pace;.;';
      expect([...stats].find(([name]) => name.includes(rule) && name.endsWith('requests_queued'))?.[1]).toBe(4);
      expect([...stats].find(([name]) => name.includes(rule) && name.endsWith('requests_dequeued'))?.[1]).toBe(4);
    });

    it('refuses at once, with the fallback, every request whose slot is beyond the queue timeout', async () => {
      const started = Date.now();
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => send(suite.envoy.url, `/timeout?i=${i}`).then((r) => ({ ...r, at: Date.now() }))));
      const refused = replies.filter((r) => r.status === 429);
      // Slots 0, 250, 500, 750, 1000 ms are within the queue timeout; the burst took < 250 ms, so the
      // next slot (1250 ms) is beyond it for every later request, whatever worker it landed on.
      expect(replies.filter((r) => r.status === 200)).toHaveLength(1 + QUEUE_TIMEOUT / INTERVAL);
      expect(refused).toHaveLength(20 - (1 + QUEUE_TIMEOUT / INTERVAL));
      for (const r of refused) {
        expect(r.body).toBe('queue full');
        expect(r.headers['x-sergo']).toBe('paced');
        expect(r.at - started).toBeLessThan(INTERVAL);   // refused, not queued
      }
      const seen = arrivals('/timeout');
      expect(seen).toHaveLength(5);
      for (let k = 1; k < seen.length; k++) expect(seen[k]!.at - seen[k - 1]!.at).toBeGreaterThanOrEqual(INTERVAL - TICK - SLACK);
      expect(seen.at(-1)!.at - seen[0]!.at).toBeLessThanOrEqual(QUEUE_TIMEOUT + TICK + SLACK);
    });

    it('a client that leaves while queued gives its slot back: the next request takes it', async () => {
      const sent0 = Date.now();
      const a = send(suite.envoy.url, '/leave?who=a');                              // slot 0
      await sleep(20);
      const b = send(suite.envoy.url, '/leave?who=b');                              // slot 250
      await sleep(20);
      const c = send(suite.envoy.url, '/leave?who=c', { abortAfterMs: 100 });       // slot 500, leaves at ~140 ms
      await expect(c).rejects.toThrow(/aborted by the client/);
      await sleep(100);
      // The last slot handed out (500) was given back: d takes it instead of 750 ms.
      const d = send(suite.envoy.url, '/leave?who=d');
      const replies = await Promise.all([a, b, d]);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
      const seen = arrivals('/leave');
      expect(seen.map((s) => s.path)).toEqual(['/leave?who=a', '/leave?who=b', '/leave?who=d']);
      expect(seen[2]!.at - sent0).toBeGreaterThanOrEqual(2 * INTERVAL);
      expect(seen[2]!.at - seen[0]!.at).toBeLessThanOrEqual(2 * INTERVAL + TICK + SLACK);
    });
  });
}
