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
import { BREAKER_STATES, decodeStatName, encodeTag, FILTER_METRICS, METRIC_TAGS, metricName, RULE_METRICS } from '../../src/emit/metrics.ts';
import { compileModule, ManualClock, ProxyWasmHost } from '../../src/host/index.ts';
import { repoRoot } from '../support/paths.ts';

const rule = (id: string, strategy: Record<string, unknown>) => ({ id, resource: `/${id}`, strategy });
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

  it.each(Object.keys(KINDS))('rule %s: passed, blocked and its strategy\'s own, tagged rule, resource, strategy', (id) => {
    const mine = defined.filter((d) => d.labels[0]?.[1] === id);
    const names = [...new Set(mine.map((d) => d.name))].sort();
    expect(names).toEqual([RULE_METRICS.passed, RULE_METRICS.blocked, ...OWN[id]!].map(metricName).sort());
    for (const d of mine) {
      expect(d.labels.slice(0, 3)).toEqual([['sergo_rule', id], ['sergo_resource', `/${id}`], ['sergo_strategy', KINDS[id]]]);
    }
  });

  it('breaker transitions: one counter per ordered pair of BREAKER_STATES, tagged from and to', () => {
    const transitions = defined.filter((d) => d.name === metricName(RULE_METRICS.breakerTransitions));
    const pairs = transitions.map((d) => d.labels.slice(3).map(([tag, value]) => `${tag}:${value}`).join(' '));
    const expected = BREAKER_STATES.flatMap((from) => BREAKER_STATES.filter((to) => to !== from).map((to) => `sergo_from:${from} sergo_to:${to}`));
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
