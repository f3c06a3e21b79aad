// Filter metrics. Envoy stores them as `wasmcustom.<name>`; tags are encoded in the name the way
// Istio does (names.ts), so a `stats_tags` rule per tag (emitted by `sergo translate --format envoy`)
// turns them into Prometheus labels: sergo_requests_passed{sergo_namespace="…",sergo_app="…",
// sergo_rule="…",sergo_resource="…",…}.
// Every rule has requests_passed and requests_blocked (Strategy.useMetrics); a strategy defines its own
// beside them (Strategy.defineMetrics), all named after the rule's tags (writeRuleTags).
//
// A rule's metrics are defined when it first needs one (its first count handed to the host, its
// first transition, …), not at configure time: defining some 40,000 metrics for 10,000 rules was
// most of on_configure, in every worker VM, for every push, whether the rules saw traffic or not.
// A rule's series therefore appear with its first request (a breaker's state gauge and transitions
// excepted: a state, defined at configure time, closed until it moves). A reload defines nothing for
// a rule it keeps (takeover.ts): Envoy never frees an id. The counts of requests_passed and
// requests_blocked are kept in the VM and flushed on the worker's tick (../strategies/strategy.ts).
import { MetricType, defineMetric, incrementMetric, startName, nameWritten, appendName, appendNameRange } from "./abi";
import * as names from "./names";

/** How long a request's count may wait in the VM before the worker's tick hands it to the host. */
export const FLUSH_MS: i64 = names.METRICS_FLUSH_MS;

/** Starts a metric name with a rule's encoded tags, the prefix of every metric of that rule,
 *  written from its names (no string built); returns their length (for defineMetricAfter).
 *  `kind`: the strategy's kind without "Strategy" (the sergo_strategy tag). */
export function writeRuleTags(id: string, resource: string, kind: string): usize {
  const n = idNames(id, resource, kind);
  startName();
  appendName(names.METRIC_PREFIX);
  if (n == null) {
    tag(names.TAG_RULE, id, 0, id.length);
  } else {
    tag(names.TAG_NAMESPACE, id, 0, n.a);
    tag(names.TAG_APP, id, n.a + 1, n.b);
    tag(names.TAG_RULE, id, n.b + 1, n.c);
  }
  tag(names.TAG_RESOURCE, resource, 0, resource.length);
  tag(names.TAG_STRATEGY, kind, 0, kind.length);
  if (n != null) tag(names.TAG_STRATEGY_NAME, id, n.d + 1, n.e);
  return nameWritten();
}

/** A tag of characters [from, to) of `s`, encoded (names.encodeTag) into the metric name. */
function tag(name: string, s: string, from: i32, to: i32): void {
  appendName(name);
  appendName(names.TAG_VALUE_START);
  appendNameRange(s, from, to);
  appendName(names.TAG_END);
}

/** Where the names end in an id the translator built: see idNames. */
class IdNames { a: i32 = 0; b: i32 = 0; c: i32 = 0; d: i32 = 0; e: i32 = 0; }
const ID_NAMES = new IdNames();
const STRATEGY = "Strategy";

/** The names in an id the translator built, `namespace/app/rule/<kind>Strategy/strategy@resource`
 *  (src/ir/identity.ts): namespace [0, a), app (a, b), rule (b, c), strategy (d, e), none empty.
 *  Null for an id of another form (a hand-written configuration): its rule tag is the whole id.
 *  Kubernetes names have no `/`, `@` or `;`, so the split is exact and the tag encoding holds
 *  (src/emit/metrics.ts, its mirror). (One result, reused: read it before the next call.) */
function idNames(id: string, resource: string, kind: string): IdNames | null {
  const a = id.indexOf("/");
  if (a <= 0) return null;
  const b = id.indexOf("/", a + 1);
  if (b <= a + 1) return null;
  const c = id.indexOf("/", b + 1);
  if (c <= b + 1) return null;
  const d = id.indexOf("/", c + 1);
  if (d <= c + 1) return null;
  const e = id.indexOf("@", d + 1);
  if (e <= d + 1) return null;
  // Only the exact identity of these names: the labels then give the id back
  // (id == namespace/app/rule/<kind>Strategy/strategy@resource).
  if (d - c - 1 != kind.length + STRATEGY.length || !sameAt(id, c + 1, kind) || !sameAt(id, c + 1 + kind.length, STRATEGY)) return null;
  if (id.length - e - 1 != resource.length || !sameAt(id, e + 1, resource)) return null;
  const n = ID_NAMES;
  n.a = a; n.b = b; n.c = c; n.d = d; n.e = e;
  return n;
}

/** Whether `s` has `t` at `at` (in range). */
function sameAt(s: string, at: i32, t: string): bool {
  return memory.compare(changetype<usize>(s) + (<usize>at << 1), changetype<usize>(t), <usize>t.length << 1) == 0;
}

/** Process-wide filter metrics. */
export class FilterMetrics {
  casExhausted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CAS_EXHAUSTED);
  configAccepted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_ACCEPTED);
  configRejected: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_REJECTED);
  queueOverflow: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.QUEUE_OVERFLOW);
  inc(id: u32): void { incrementMetric(id, 1); }
}

let vmMetrics: FilterMetrics | null = null;
/** The VM's filter metrics, defined once for all its root contexts (Envoy gives each push a new one). */
export function filterMetrics(): FilterMetrics {
  let m = vmMetrics;
  if (m === null) vmMetrics = m = new FilterMetrics();
  return m;
}
