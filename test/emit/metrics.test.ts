// The metric names, their tag encoding and the breaker's state names have one source on the
// TypeScript side, src/emit/metrics.ts (the bootstrap's stats_tags, sergo serve's views). The filter,
// in AssemblyScript, has its own copy; this holds the two together by running build/sergo.wasm in
// src/host: every metric it defines is one of the module's, tagged as the module says, and the
// breaker_state gauge counts in BREAKER_STATES' order.
import { readFileSync } from 'node:fs';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricStatsTags } from '../../src/emit/envoy.ts';
import { BREAKER_STATES, decodeStatName, encodeTag, FILTER_METRICS, METRIC_TAGS, metricName, RULE_METRICS, ruleIdOf, ruleTags, TRANSITION_ORDER } from '../../src/emit/metrics.ts';
import { compileModule, ManualClock, ProxyWasmHost } from '../../src/host/index.ts';
import { translateSources } from '../../src/translate.ts';
import { repoRoot } from '../support/paths.ts';

/** Rule `name` (on `/name`) with the id the translator gives it: app shop in namespace prod. */
const rule = (name: string, strategy: { kind: string } & Record<string, unknown>) =>
  ({ id: `prod/shop/${name}/${strategy.kind}Strategy/s-${name}@/${name}`, resource: `/${name}`, strategy });
const CONFIG = {
  version: 1,
  rateLimitService: { cluster: 'rls' },
  rules: [
    rule('local', { kind: 'RateLimit', threshold: 5, windowMs: 1000 }),
    rule('global', { kind: 'RateLimit', mode: 'Global', threshold: 5, windowMs: 1000, failOpen: false, batch: 1 }),
    rule('paced', { kind: 'Throttling', intervalMs: 10, queueTimeoutMs: 100 }),
    rule('bounded', { kind: 'ConcurrencyLimit', maxConcurrency: 2 }),
    rule('breaker', { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 10_000, recoveryTimeoutMs: 5000, minRequestAmount: 1, errorStatus: [[500, 599]] }),
  ],
};
const KINDS: Record<string, string> = { local: 'RateLimit', global: 'RateLimit', paced: 'Throttling', bounded: 'ConcurrencyLimit', breaker: 'CircuitBreaker' };
/** The per-rule metrics beyond passed/blocked that each rule's strategy defines. */
const OWN: Record<string, string[]> = {
  local: [],
  global: [RULE_METRICS.rlsOk, RULE_METRICS.rlsOverLimit, RULE_METRICS.rlsErrors, RULE_METRICS.rlsFailedOpen],
  paced: [RULE_METRICS.queued, RULE_METRICS.dequeued],
  bounded: [],
  breaker: [RULE_METRICS.breakerState, RULE_METRICS.breakerTransitions],
};

function startFilter(): ProxyWasmHost {
  const module = compileModule(readFileSync(resolve(repoRoot, 'build/sergo.wasm')));
  const host = new ProxyWasmHost({ module, vms: 1, rootId: 'sergo', clock: new ManualClock(), configuration: JSON.stringify(CONFIG) });
  expect(host.start()).toBe(true);
  // A rule's metrics are defined with its first use (assembly/metrics.ts): one request each, then
  // the worker's tick that hands the counts over.
  for (const id of Object.keys(KINDS)) {
    const stream = host.stream();
    if (stream.requestHeaders([[':method', 'GET'], [':path', `/${id}`], [':authority', 'svc'], [':scheme', 'http']]).action === 'continue') {
      stream.responseHeaders([[':status', '200']]);
    }
    stream.finish();
  }
  host.advance(METRICS_FLUSH_MS);
  return host;
}

describe('the filter defines the metrics of src/emit/metrics.ts', () => {
  const host = startFilter();
  const defined = [...host.metrics().keys()].map(decodeStatName);

  it('untagged: exactly FILTER_METRICS', () => {
    const untagged = defined.filter((d) => d.labels.length === 0).map((d) => d.name);
    expect(untagged.sort()).toEqual(Object.values(FILTER_METRICS).map(metricName).sort());
  });

  it.each(Object.keys(KINDS))('rule %s: passed, blocked and its strategy\'s own, tagged namespace, app, rule, resource, strategy kind and name', (name) => {
    const mine = defined.filter((d) => d.labels[2]?.[1] === name);
    const names = [...new Set(mine.map((d) => d.name))].sort();
    expect(names).toEqual([RULE_METRICS.passed, RULE_METRICS.blocked, ...OWN[name]!].map(metricName).sort());
    const tags = [['sergo_namespace', 'prod'], ['sergo_app', 'shop'], ['sergo_rule', name], ['sergo_resource', `/${name}`],
      ['sergo_strategy', KINDS[name]], ['sergo_strategy_name', `s-${name}`]];
    for (const d of mine) expect(d.labels.slice(0, 6)).toEqual(tags);
    // src/emit/metrics.ts says the same, and gives the id back from the labels.
    const r = CONFIG.rules.find((x) => x.resource === `/${name}`)!;
    expect(ruleTags({ id: r.id, resource: r.resource, kind: r.strategy.kind })).toEqual(tags);
    for (const d of mine) expect(ruleIdOf(new Map(d.labels))).toBe(r.id);
  });

  it('breaker transitions: one counter per transition of TRANSITION_ORDER (the state machine\'s four), tagged from and to', () => {
    const transitions = defined.filter((d) => d.name === metricName(RULE_METRICS.breakerTransitions));
    const pairs = transitions.map((d) => d.labels.slice(6).map(([tag, value]) => `${tag}:${value}`).join(' '));
    const expected = TRANSITION_ORDER.map((t) => t.split('>')).map(([from, to]) => `sergo_from:${from} sergo_to:${to}`);
    expect(expected).toHaveLength(4);
    for (const t of TRANSITION_ORDER) for (const s of t.split('>')) expect(BREAKER_STATES).toContain(s);
    expect(pairs.sort()).toEqual(expected.sort());
  });

  it('every tag the filter writes is in METRIC_TAGS, encoded by encodeTag, and the stats_tags regexes cut them out', () => {
    const tags = new Set(defined.flatMap((d) => d.labels.map(([tag]) => tag)));
    expect([...tags].sort()).toEqual([...METRIC_TAGS].sort());
    const raw = [...host.metrics().keys()].find((n) => n.includes('sergo_from'))!;
    const { labels } = decodeStatName(raw);
    expect(raw).toBe(`sergo.${labels.map(([t, v]) => encodeTag(t, v)).join('')}${RULE_METRICS.breakerTransitions}`);
    let name = raw;
    for (const { regex } of metricStatsTags()) name = name.replace(new RegExp(regex).exec(name)![1]!, '');
    expect(name).toBe(metricName(RULE_METRICS.breakerTransitions));
  });

  it('breaker_state counts in BREAKER_STATES\' order: an error trips it to "open"', () => {
    const gauge = () => [...host.metrics()].find(([n]) => decodeStatName(n).name === metricName(RULE_METRICS.breakerState))![1].value;
    expect(BREAKER_STATES[Number(gauge())]).toBe('closed');
    const stream = host.stream();
    expect(stream.requestHeaders([[':method', 'GET'], [':path', '/breaker'], [':authority', 'svc'], [':scheme', 'http']]).action).toBe('continue');
    stream.responseHeaders([[':status', '500']]);
    stream.finish();
    expect(BREAKER_STATES[Number(gauge())]).toBe('open');
    const opened = [...host.metrics()].find(([n]) => n.includes(encodeTag('sergo_from', 'closed')) && n.includes(encodeTag('sergo_to', 'open')))!;
    expect(opened[1].value).toBe(1n);
  });
});

/** The tags of every rule metric `host` defined, by the resource they are tagged with. */
function tagsByResource(host: ProxyWasmHost): Map<string, [string, string][][]> {
  const out = new Map<string, [string, string][][]>();
  for (const name of host.metrics().keys()) {
    const { name: metric, labels } = decodeStatName(name);
    if (metric !== metricName(RULE_METRICS.passed)) continue;
    const resource = labels.find(([t]) => t === 'sergo_resource')![1];
    out.set(resource, [...(out.get(resource) ?? []), labels]);
  }
  return out;
}

/** Runs build/sergo.wasm with `rules`, one GET to each resource's path, and the flush. */
function run(rules: { id: string; resource: string; strategy: Record<string, unknown> }[]): ProxyWasmHost {
  const module = compileModule(readFileSync(resolve(repoRoot, 'build/sergo.wasm')));
  const host = new ProxyWasmHost({ module, vms: 1, rootId: 'sergo', clock: new ManualClock(), configuration: JSON.stringify({ version: 1, rules }) });
  expect(host.start()).toBe(true);
  for (const path of new Set(rules.map((r) => r.resource.replace(/^[A-Z]+:/, '')))) {
    const stream = host.stream();
    expect(stream.requestHeaders([[':method', 'GET'], [':path', path], [':authority', 'svc'], [':scheme', 'http']]).action).toBe('continue');
    stream.responseHeaders([[':status', '200']]);
    stream.finish();
  }
  host.advance(METRICS_FLUSH_MS);
  return host;
}

describe('the rule labels come from the names in the rule id', () => {
  it('one rule listing two strategies of a kind for one target: two series, told apart by sergo_strategy_name', async () => {
    const doc = (kind: string, name: string, spec: string) =>
      `---\napiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name}, namespace: shop-ns, labels: { app: cart.v2 } }\nspec: ${spec}\n`;
    const text = doc('RateLimitStrategy', 'per-second', '{ metricType: RequestAmount, limitMode: Local, threshold: 10, statDurationSeconds: 1 }') +
      doc('RateLimitStrategy', 'per-minute', '{ metricType: RequestAmount, limitMode: Local, threshold: 100, statDurationSeconds: 60 }') +
      doc('FaultToleranceRule', 'limits.checkout', "{ targets: [{ targetResourceName: '/pay' }], strategies: [{ name: per-second }, { name: per-minute }] }");
    const translated = translateSources([{ path: 'rules.yaml', text }]);
    expect(translated.errors).toEqual([]);
    const rules = translated.config!.rules;
    expect(rules).toHaveLength(2);
    const series = tagsByResource(run(rules)).get('/pay')!;
    const base = [['sergo_namespace', 'shop-ns'], ['sergo_app', 'cart.v2'], ['sergo_rule', 'limits.checkout'], ['sergo_resource', '/pay'], ['sergo_strategy', 'RateLimit']];
    expect(series.sort()).toEqual([[...base, ['sergo_strategy_name', 'per-minute']], [...base, ['sergo_strategy_name', 'per-second']]]);
    expect(series.map((l) => ruleIdOf(new Map(l))).sort()).toEqual(rules.map((r) => r.id).sort());
  });

  // Hand-written configurations may use any printable id: only one that is exactly a translator's
  // identity of its own kind and resource is split; any other is the rule tag whole.
  const OTHER_FORMS = [
    'short',
    'a/b/c',
    'a/b/c/RateLimitStrategy',
    'a/b/c/RateLimitStrategy/s',
    'a//c/RateLimitStrategy/s@/o1',
    'a/b/c/RateLimitStrategy/@/o1',
    'a/b/c/ThrottlingStrategy/s@/o1',
    'a/b/c/RateLimitStrategy/s@/elsewhere',
    '/b/c/RateLimitStrategy/s@/o1',
  ];
  it.each(OTHER_FORMS)('id %s: sergo_rule is the whole id, no namespace, app or strategy name; the same in src/emit/metrics.ts', (id) => {
    const r = { id, resource: '/o1', strategy: { kind: 'RateLimit', threshold: 5, windowMs: 1000 } };
    const [labels] = tagsByResource(run([r])).get('/o1')!;
    expect(labels).toEqual([['sergo_rule', id], ['sergo_resource', '/o1'], ['sergo_strategy', 'RateLimit']]);
    expect(ruleTags({ id, resource: '/o1', kind: 'RateLimit' })).toEqual(labels);
    expect(ruleIdOf(new Map(labels))).toBe(id);
  });

  it('a translator\'s id with a METHOD: resource, "." in names and "@" in the path is split at its names', () => {
    const id = 'ns-1/app_2.x/r.1/RateLimitStrategy/rl.2@GET:/u/@me';
    const [labels] = tagsByResource(run([{ id, resource: 'GET:/u/@me', strategy: { kind: 'RateLimit', threshold: 5, windowMs: 1000 } }])).get('GET:/u/@me')!;
    expect(labels).toEqual([['sergo_namespace', 'ns-1'], ['sergo_app', 'app_2.x'], ['sergo_rule', 'r.1'], ['sergo_resource', 'GET:/u/@me'],
      ['sergo_strategy', 'RateLimit'], ['sergo_strategy_name', 'rl.2']]);
    expect(ruleTags({ id, resource: 'GET:/u/@me', kind: 'RateLimit' })).toEqual(labels);
    expect(ruleIdOf(new Map(labels))).toBe(id);
  });
});
