// Names other tools rely on, in one place: the metric names the filter defines, how their tags are
// encoded, the breaker's state names and the reply details. Plain strings, valid as AssemblyScript
// and as TypeScript, so that src/ and test/ can import this file too instead of restating them.

/** Prefix of every metric the filter defines (Envoy shows them as `wasmcustom.sergo.…`). */
export const METRIC_PREFIX = "sergo.";

// Per-rule metrics (README "Metrics").
export const REQUESTS_PASSED = "requests_passed";
export const REQUESTS_BLOCKED = "requests_blocked";
export const REQUESTS_QUEUED = "requests_queued";
export const REQUESTS_DEQUEUED = "requests_dequeued";
export const BREAKER_STATE = "breaker_state";
export const BREAKER_TRANSITIONS = "breaker_transitions";
export const RLS_OK = "rls_ok";
export const RLS_OVER_LIMIT = "rls_over_limit";
export const RLS_ERRORS = "rls_errors";
export const RLS_FAILED_OPEN = "rls_failed_open";

/** requests_passed / requests_blocked are counted in the VM and handed to the host on the worker's
 *  tick this long after the first count since the last hand-over (a scrape sees them this late). */
export const METRICS_FLUSH_MS = 1000;

// Process-wide metrics (no tags).
export const CAS_EXHAUSTED = "cas_exhausted";
export const CONFIG_ACCEPTED = "config_accepted";
export const CONFIG_REJECTED = "config_rejected";
export const QUEUE_OVERFLOW = "queue_overflow";

// Tags, encoded in the metric name the way Istio does; one `stats_tags` regex per tag name turns
// them into labels: `(<name>=\.=(.*?);\.;)`. Namespace, app, rule and strategy name are the names
// in the rule's id (metrics.ts), each its own label so that queries can group by them.
export const TAG_NAMESPACE = "sergo_namespace";
export const TAG_APP = "sergo_app";
export const TAG_RULE = "sergo_rule";
export const TAG_RESOURCE = "sergo_resource";
export const TAG_STRATEGY = "sergo_strategy";
export const TAG_STRATEGY_NAME = "sergo_strategy_name";
export const TAG_FROM = "sergo_from";
export const TAG_TO = "sergo_to";
export const TAG_VALUE_START = "=.=";
export const TAG_END = ";.;";

export function encodeTag(name: string, value: string): string {
  return name + TAG_VALUE_START + value + TAG_END;
}

/** The breaker_state gauge's values are the indexes: closed 0, open 1, half-open 2. */
export const BREAKER_STATES: string[] = ["closed", "open", "half_open"];

/** response.code_details of every local reply the filter sends. */
export const BLOCKED_DETAILS = "sergo_blocked";
