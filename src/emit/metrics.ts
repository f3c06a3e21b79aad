// The filter's metrics as it defines them (assembly/metrics.ts, docs: README "Metrics"): the names,
// the tags encoded in them the way Istio does (`tag=.=value;.;`, so Envoy's stats_tags can turn them
// into labels), and the breaker's state names. The one source for the bootstrap's stats_tags,
// `sergo serve`'s views (stats, rule stats, breaker log) and the tests. The filter, in
// AssemblyScript, keeps its own copy; test/emit/metrics.test.ts runs build/sergo.wasm and holds the
// two together.

export const METRIC_PREFIX = 'sergo.';

/** Per-rule metrics, tagged sergo_namespace, sergo_app, sergo_rule, sergo_resource, sergo_strategy,
 *  sergo_strategy_name (transitions also sergo_from, sergo_to). */
export const RULE_METRICS = {
  passed: 'requests_passed',
  blocked: 'requests_blocked',
  /** Throttling only. */
  queued: 'requests_queued',
  dequeued: 'requests_dequeued',
  /** CircuitBreaker only: a gauge, BREAKER_STATES' index. */
  breakerState: 'breaker_state',
  breakerTransitions: 'breaker_transitions',
  /** Global RateLimit only. */
  rlsOk: 'rls_ok',
  rlsOverLimit: 'rls_over_limit',
  rlsErrors: 'rls_errors',
  rlsFailedOpen: 'rls_failed_open',
} as const;

/** Metrics of the whole filter, untagged. */
export const FILTER_METRICS = {
  casExhausted: 'cas_exhausted',
  configAccepted: 'config_accepted',
  configRejected: 'config_rejected',
  queueOverflow: 'queue_overflow',
} as const;

export const TAGS = {
  namespace: 'sergo_namespace', app: 'sergo_app', rule: 'sergo_rule', resource: 'sergo_resource',
  strategy: 'sergo_strategy', strategyName: 'sergo_strategy_name', from: 'sergo_from', to: 'sergo_to',
} as const;
/** The tags, in the order the filter writes them. */
export const METRIC_TAGS = [TAGS.namespace, TAGS.app, TAGS.rule, TAGS.resource, TAGS.strategy, TAGS.strategyName, TAGS.from, TAGS.to] as const;
export type MetricTag = (typeof METRIC_TAGS)[number];

/** What the filter's rule tags are made of: a rule of the filter configuration. */
export interface TaggedRule {
  id: string;
  resource: string;
  /** the strategy's kind in the filter configuration (`RateLimit`, …): the sergo_strategy tag */
  kind: string;
}

/**
 * The names in an id the translator built, `namespace/app/rule/<kind>Strategy/strategy@resource`
 * (src/ir/identity.ts), as the filter splits it (assembly/metrics.ts `idNames`): undefined for an id
 * of another form (a hand-written configuration), whose rule tag is the whole id. Kubernetes names
 * (DNS-1123, label values) have no `/`, `@`, `;` or `"`, so the split is exact.
 */
export function idNames(r: TaggedRule): { namespace: string; app: string; rule: string; strategy: string } | undefined {
  const m = /^([^/]+)\/([^/]+)\/([^/]+)\/[^/]*\/([^@]+)@/.exec(r.id);
  if (m === null) return undefined;
  const [, namespace, app, rule, strategy] = m as unknown as [string, string, string, string, string];
  return r.id === `${namespace}/${app}/${rule}/${r.kind}Strategy/${strategy}@${r.resource}` ? { namespace, app, rule, strategy } : undefined;
}

/** The tags of a rule's metrics, in the filter's order (transitions add sergo_from, sergo_to). */
export function ruleTags(r: TaggedRule): [string, string][] {
  const n = idNames(r);
  if (n === undefined) return [[TAGS.rule, r.id], [TAGS.resource, r.resource], [TAGS.strategy, r.kind]];
  return [[TAGS.namespace, n.namespace], [TAGS.app, n.app], [TAGS.rule, n.rule], [TAGS.resource, r.resource], [TAGS.strategy, r.kind], [TAGS.strategyName, n.strategy]];
}

/** The rule id a series' labels name: the inverse of ruleTags (undefined for a series of no rule). */
export function ruleIdOf(labels: ReadonlyMap<string, string>): string | undefined {
  const rule = labels.get(TAGS.rule);
  const namespace = labels.get(TAGS.namespace);
  if (rule === undefined || namespace === undefined) return rule;
  return `${namespace}/${labels.get(TAGS.app)}/${rule}/${labels.get(TAGS.strategy)}Strategy/${labels.get(TAGS.strategyName)}@${labels.get(TAGS.resource)}`;
}

/** The breaker_state gauge's values by index, and the values of the sergo_from / sergo_to tags. */
export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** The four transitions of the breaker's state machine (each has a breaker_transitions counter), in
 *  the order it takes them (to sort those seen in one read). */
export const TRANSITION_ORDER: readonly string[] = ['closed>open', 'open>half_open', 'half_open>open', 'half_open>closed'];

/** `sergo.requests_passed`: a metric's name with its tags taken out. */
export function metricName(name: string): string {
  return `${METRIC_PREFIX}${name}`;
}

/** One tag as encoded in a stat name. */
export function encodeTag(tag: string, value: string): string {
  return `${tag}=.=${value};.;`;
}

/** The RE2 regex of a stats_tags entry: group 1 (the whole tag) is cut from the name, group 2 is the value. */
export function statsTagRegex(tag: string): string {
  return `(${tag}=\\.=(.*?);\\.;)`;
}

export interface DecodedName {
  /** the name with the tag segments taken out, e.g. `sergo.requests_passed` */
  name: string;
  labels: [string, string][];
}

const TAG = /([A-Za-z_][A-Za-z0-9_]*)=\.=([\s\S]*?);\.;/g;

/** Takes the `tag=.=value;.;` segments out of a stat name (what Envoy's stats_tags regexes do). */
export function decodeStatName(raw: string): DecodedName {
  const labels: [string, string][] = [];
  const name = raw.replace(TAG, (_all, tag: string, value: string) => {
    labels.push([tag, value]);
    return '';
  });
  return { name, labels };
}
