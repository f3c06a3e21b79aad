// The filter's metrics in real Envoy (2 workers), checked against the README's metrics table itself
// (parsed from README.md, so the document is what is tested): Envoy's /stats/prometheus has every
// metric of the table, with the table's type, exactly the labels the emitted stats_tags extract
// (sergo_namespace, sergo_app, sergo_rule, sergo_resource, sergo_strategy, sergo_strategy_name,
// sergo_from, sergo_to), each the name it stands for (not the long rule id), one series per rule
// that defines it, and the values of what this test did.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/paths.ts';
import { eventually, launchers, send, type RunningEnvoy } from './harness.ts';
import { ScriptedRls } from './scripted-rls.ts';
import { Upstream } from './upstream.ts';

// ---- the README's table -------------------------------------------------------------------------

interface DocumentedMetric { name: string; type: string; labels: string[] }

function readmeMetrics(): DocumentedMetric[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## Metrics$/m)[1]!.split(/^## /m)[0]!;
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  const metrics: DocumentedMetric[] = [];
  for (const row of rows) {
    const [names, type, tags] = row.split('|').slice(1, 4).map((c) => c.trim());
    const labels = tags === '' ? [] : tags!.split(',').map((t) => `sergo_${t.trim()}`);
    for (const m of names!.matchAll(/`([^`]+)`/g)) metrics.push({ name: m[1]!, type: type!, labels });
  }
  return metrics;
}

// ---- Prometheus text ------------------------------------------------------------------------------

interface Sample { labels: Record<string, string>; value: number }

function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, Sample[]> } {
  const types = new Map<string, string>();
  const samples = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) { types.set(type[1]!, type[2]!); continue; }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.set(m[1]!, [...(samples.get(m[1]!) ?? []), { labels, value: Number(m[3]) }]);
  }
  return { types, samples };
}

// ---- the rules: one of each kind, two Global ones (fail closed, fail open) -----------------------

const doc = (text: string) => `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\n${text}`;
const strategy = (kind: string, name: string, spec: string) => doc(`kind: ${kind}\nmetadata: { name: ${name}, labels: { app: demo } }\nspec: ${spec}\n`);
const rule = (name: string, target: string, strategyName: string) => doc(`kind: FaultToleranceRule
metadata: { name: ${name}, labels: { app: demo } }
spec: { targets: [{ targetResourceName: '${target}' }], strategies: [{ name: ${strategyName} }] }
`);

/** Huge queue timeout, long interval: a flood of requests all queue (until a worker's queue is full). */
const FLOOD_INTERVAL_MS = 40_000;   // longer than the 12 waves take (each decided once the workers flushed its counts); 2,000 slots within 24 h

/** The FaultToleranceRules (namespace default, app demo): each one target and one strategy. */
const TARGETS: Record<string, { resource: string; strategy: string }> = {
  rl: { resource: 'GET:/m/rl', strategy: 'three' },
  pacing: { resource: '/m/pace', strategy: 'pace' },
  flooding: { resource: '/m/flood', strategy: 'flood' },
  conc: { resource: '/m/conc/{id}', strategy: 'two' },
  cb: { resource: '/m/cb', strategy: 'fragile' },
  global: { resource: '/m/global', strategy: 'shared' },
  failing: { resource: '/m/failing', strategy: 'lenient' },
};

const RULES = [
  strategy('RateLimitStrategy', 'three', '{ metricType: RequestAmount, limitMode: Local, threshold: 3, statDurationSeconds: 60 }'),
  strategy('ThrottlingStrategy', 'pace', '{ minIntervalOfRequests: 200ms, queueTimeout: 400ms }'),
  strategy('ThrottlingStrategy', 'flood', `{ minIntervalOfRequests: ${FLOOD_INTERVAL_MS}ms, queueTimeout: 24h }`),
  strategy('ConcurrencyLimitStrategy', 'two', '{ maxConcurrency: 2, limitMode: Local }'),
  strategy('CircuitBreakerStrategy', 'fragile', "{ strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 60s, recoveryTimeout: 60s, minRequestAmount: 2 }"),
  strategy('RateLimitStrategy', 'shared', '{ metricType: RequestAmount, limitMode: Global, threshold: 100, statDurationSeconds: 60 }'),
  strategy('RateLimitStrategy', 'lenient', '{ metricType: RequestAmount, limitMode: Global, threshold: 100, statDurationSeconds: 60, failOpen: true }'),
  ...Object.entries(TARGETS).map(([name, t]) => rule(name, t.resource, t.strategy)),
].join('');

/** The emitted rule ids, by rule name (from the bootstrap's filter configuration). */
function ruleIds(bootstrap: string): Map<string, { id: string; resource: string; kind: string }> {
  const yaml = parseYaml(bootstrap) as { static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Array<{ name: string; typed_config: { config: { configuration: { value: string } } } }> } }> }> }> } };
  const wasm = yaml.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters.find((f) => f.name === 'envoy.filters.http.wasm')!;
  const config = JSON.parse(wasm.typed_config.config.configuration.value) as { rules: Array<{ id: string; resource: string; strategy: { kind: string } }> };
  return new Map(config.rules.map((r) => [r.id.split('/')[2]!, { id: r.id, resource: r.resource, kind: r.strategy.kind }]));
}

/** A request whose client can leave at any moment. */
function hold(baseUrl: string, path: string): { reply: Promise<number>; leave(): void } {
  const url = new URL(baseUrl);
  const req = httpRequest({ host: url.hostname, port: url.port, path, agent: false, headers: { connection: 'close' } });
  const reply = new Promise<number>((resolve) => {
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(0));   // left
  });
  req.end();
  return { reply, leave: () => req.destroy() };
}

const [first, ...others] = await launchers('test/envoy/metrics.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`Metrics in Envoy (${launcher.name}, 2 workers)`, () => {
    let upstream: Upstream;
    let rls: ScriptedRls;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await Upstream.start();
      // "shared": admits twice, then refuses; "lenient": the service fails (500) every time.
      rls = await ScriptedRls.start((rule, n) => (rule.includes('/failing/') ? 500 : n < 2 ? 200 : 429));
      envoy = await launcher.start({
        rules: RULES, upstreamPort: upstream.port, rlsPort: rls.port, concurrency: 2,
        translateArgs: ['--rls-timeout-ms', '2000'],
      });
    });
    afterAll(async () => {
      await envoy?.stop();
      await rls?.close();
      await upstream?.close();
    });

    /** What this suite did, and Envoy's /stats/prometheus afterwards. */
    let ids: ReturnType<typeof ruleIds>;
    let want: Record<string, number | Record<string, number>>;
    let prometheus: ReturnType<typeof parsePrometheus>;
    const documented = readmeMetrics();

    beforeAll(async () => {
      ids = ruleIds(envoy.bootstrap);
      const statuses = async (paths: string[], together = false) =>
        together ? (await Promise.all(paths.map((p) => send(envoy.url, p)))).map((r) => r.status)
          : await paths.reduce(async (acc, p) => [...(await acc), (await send(envoy.url, p)).status], Promise.resolve([] as number[]));

      // RateLimit 3/min: 5 GETs → 3 passed, 2 blocked; a POST is not the rule's resource.
      expect(await statuses(Array(5).fill('/m/rl'))).toEqual([200, 200, 200, 429, 429]);
      expect((await send(envoy.url, '/m/rl', { method: 'POST' })).status).toBe(200);
      // Throttling 200 ms, queue 400 ms: 4 at once → 1 at once, 2 queued then resumed, 1 refused.
      expect((await statuses(Array(4).fill('/m/pace'), true)).sort()).toEqual([200, 200, 200, 429]);
      // ConcurrencyLimit 2: 4 slow ones at once → 2 passed, 2 blocked.
      expect((await statuses([1, 2, 3, 4].map((i) => `/m/conc/${i}?delay=500`), true)).sort()).toEqual([200, 200, 429, 429]);
      // CircuitBreaker (2 requests, 50 %): 2 errors open it, the 3rd is blocked.
      expect(await statuses(['/m/cb?status=500', '/m/cb?status=500', '/m/cb'])).toEqual([500, 500, 429]);
      // Global: 2 OK answers, then OVER_LIMIT; and a failing service under failOpen: true.
      expect(await statuses(['/m/global', '/m/global', '/m/global'])).toEqual([200, 200, 429]);
      expect(await statuses(['/m/failing'])).toEqual([200]);

      // The queue overflow: a flood that queues (the next slot is minutes away) until each worker holds
      // maxQueuedPerVm (README: 1,000 by default) paused requests; the rest are refused at once. In
      // waves, so that the listener's accept backlog is never the bottleneck; 2,400 requests, so that
      // both workers get more than 1,000 of them however the kernel spreads the connections.
      const flood: ReturnType<typeof hold>[] = [];
      const floodDecided = async () => {
        let seen = 0;
        for (const [name, value] of await envoy.stats('wasmcustom')) if (name.includes('sergo_resource=.=/m/flood;.;') && /requests_(passed|blocked)$/.test(name)) seen += value;
        return seen;
      };
      for (let wave = 0; wave < 12; wave++) {
        for (let i = 0; i < 200; i++) flood.push(hold(envoy.url, `/m/flood?w=${wave}&i=${i}`));
        await eventually(async () => (await floodDecided()) === flood.length, 20_000, `Envoy to decide on all of wave ${wave}`);
      }
      const answered = await Promise.all(flood.map((f) => Promise.race([f.reply, new Promise<number>((r) => setTimeout(() => r(-1), 300))])));
      const floodRefused = answered.filter((s) => s === 429).length;
      const floodQueued = answered.filter((s) => s === -1).length;
      expect(answered.filter((s) => s === 200)).toHaveLength(1);   // slot 0
      expect(floodQueued + floodRefused).toBe(flood.length - 1);
      expect(floodQueued).toBe(2 * 1000);   // each worker's queue full
      for (const f of flood) f.leave();
      await eventually(async () => (await envoy.stats('downstream_rq_active')).get('http.ingress_http.downstream_rq_active') === 0,
        20_000, 'the flood to be gone');
      // The queued clients left, and so did their streams from the queues (none was resumed): paced
      // requests queue again on both workers instead of overflowing.
      expect((await statuses(Array(3).fill('/m/pace'), true)).sort()).toEqual([200, 200, 200]);

      const accepted = envoy.logs().split('\n').filter((l) => l.includes('sergo: configuration accepted')).length;
      // Every VM loads it (logs once per VM: workers + 2, the main thread's and the configuration
      // canary's), and it is counted once (README "Metrics").
      expect(accepted).toBe(2 + 2);
      want = {
        'sergo.requests_passed': { rl: 3, pacing: 3 + 3, flooding: 1 + floodQueued, conc: 2, cb: 2, global: 2, failing: 1 },
        'sergo.requests_blocked': { rl: 2, pacing: 1, flooding: floodRefused, conc: 2, cb: 1, global: 1, failing: 0 },
        'sergo.requests_queued': { pacing: 2 + 2, flooding: floodQueued },
        'sergo.requests_dequeued': { pacing: 2 + 2, flooding: 0 },
        'sergo.breaker_state': { cb: 1 },
        'sergo.breaker_transitions': {
          'cb closed>open': 1, 'cb open>half_open': 0, 'cb half_open>closed': 0, 'cb half_open>open': 0,
        },
        'sergo.rls_ok': { global: 2, failing: 0 },
        'sergo.rls_over_limit': { global: 1, failing: 0 },
        'sergo.rls_errors': { global: 0, failing: 1 },
        'sergo.rls_failed_open': { global: 0, failing: 1 },
        'sergo.cas_exhausted': 0,
        'sergo.queue_overflow': floodRefused,
        'sergo.config_accepted': 1,
        'sergo.config_rejected': 0,
      };
      // requests_passed / requests_blocked reach Envoy on each worker's tick, at most
      // METRICS_FLUSH_MS after the request (README "Metrics"): read once every count is in.
      const total = (m: string) => Object.values(want[m] as Record<string, number>).reduce((a, v) => a + v, 0);
      const counted = (p: ReturnType<typeof parsePrometheus>, m: string) =>
        (p.samples.get(m.replaceAll('.', '_')) ?? []).reduce((a, x) => a + x.value, 0);
      await eventually(async () => {
        prometheus = parsePrometheus(await envoy.prometheus());
        return ['sergo.requests_passed', 'sergo.requests_blocked'].every((m) => counted(prometheus, m) >= total(m));
      }, 10_000, 'the workers to flush their request counts');
    });

    const promName = (metric: DocumentedMetric) => metric.name.replaceAll('.', '_');

    /** A rule-tagged series' key in `want`: the rule's name, and `from>to` for transitions. */
    function seriesKey(labels: Record<string, string>): string {
      const name = ids.has(labels.sergo_rule!) ? labels.sergo_rule! : `unknown rule ${labels.sergo_rule}`;
      return labels.sergo_from === undefined ? name : `${name} ${labels.sergo_from}>${labels.sergo_to}`;
    }

    it('has every metric of the README table, under its Prometheus name, with the table\'s type', () => {
      expect(documented.map((m) => m.name).sort()).toEqual(Object.keys(want).sort());
      for (const metric of documented) {
        expect(prometheus.types.get(promName(metric)), `# TYPE ${promName(metric)}`).toBe(metric.type);
        expect(prometheus.samples.get(promName(metric)), promName(metric)).toBeDefined();
      }
    });

    it('labels each series with exactly the table\'s tags (the emitted stats_tags): namespace, app, rule, resource, strategy kind and name', () => {
      let tagged = 0;
      for (const metric of documented) {
        for (const s of prometheus.samples.get(promName(metric)) ?? []) {
          expect(Object.keys(s.labels).sort(), `labels of ${promName(metric)}`).toEqual([...metric.labels].sort());
          if (s.labels.sergo_rule === undefined) continue;
          tagged++;
          const at = `${promName(metric)}${JSON.stringify(s.labels)}`;
          // The rule's own name, not the long id; the id's other names in their own labels.
          expect(Object.keys(TARGETS), at).toContain(s.labels.sergo_rule);
          const target = TARGETS[s.labels.sergo_rule!]!;
          expect(s.labels.sergo_namespace, at).toBe('default');
          expect(s.labels.sergo_app, at).toBe('demo');
          expect(s.labels.sergo_resource, at).toBe(target.resource);
          expect(s.labels.sergo_strategy, at).toBe(ids.get(s.labels.sergo_rule!)!.kind);
          expect(s.labels.sergo_strategy_name, at).toBe(target.strategy);
          // Together they are the rule's id.
          const l = s.labels;
          expect(`${l.sergo_namespace}/${l.sergo_app}/${l.sergo_rule}/${l.sergo_strategy}Strategy/${l.sergo_strategy_name}@${l.sergo_resource}`, at)
            .toBe(ids.get(l.sergo_rule!)!.id);
        }
      }
      expect(tagged).toBeGreaterThan(Object.keys(TARGETS).length * 2);
    });

    it('has one series per rule that defines the metric, valued as the traffic sent', () => {
      for (const metric of documented) {
        const expected = want[metric.name]!;
        if (typeof expected === 'number') continue;
        const got = Object.fromEntries((prometheus.samples.get(promName(metric)) ?? []).map((s) => [seriesKey(s.labels), s.value]));
        expect(got, promName(metric)).toEqual(expected);
      }
    });

    it('has the process-wide counters (no tags) valued as what happened: queue overflows, CAS exhaustion, configurations', () => {
      for (const metric of documented) {
        const expected = want[metric.name]!;
        if (typeof expected !== 'number') continue;
        expect(prometheus.samples.get(promName(metric)), promName(metric)).toEqual([{ labels: {}, value: expected }]);
      }
      expect(want['sergo.queue_overflow']).toBeGreaterThan(0);
    });
  });
}
