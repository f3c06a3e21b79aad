// Filter metrics. Envoy stores them as `wasmcustom.<name>`; tags are encoded in the name the way
// Istio does (names.ts), so a `stats_tags` rule per tag (emitted by `sergo translate --format envoy`)
// turns them into Prometheus labels: sergo_requests_passed{sergo_namespace="…",sergo_app="…",
// sergo_rule="…",sergo_resource="…",…}.
// Every rule has the two below; a strategy defines its own beside them (Strategy.defineMetrics).
//
// A rule's metrics are defined when it first needs one (its first count handed to the host, its
// first transition, …), not at configure time: defining some 40,000 metrics for 10,000 rules was
// most of on_configure, in every worker VM, for every push, whether the rules saw traffic or not.
// A rule's series therefore appear with its first request (a breaker's state gauge and transitions
// excepted: a state, defined at configure time, closed until it moves). The counts of requests_passed and
// requests_blocked are kept in the VM and flushed on the worker's tick (../strategies/strategy.ts).
import { MetricType, defineMetric, incrementMetric } from "./abi";
import * as names from "./names";

/** How long a request's count may wait in the VM before the worker's tick hands it to the host. */
export const FLUSH_MS: i64 = names.METRICS_FLUSH_MS;

export class RuleMetrics {
  /** The rule's tags, encoded: the prefix of every metric of this rule (set by `define`). */
  tags: string = "";
  passed: u32 = u32.MAX_VALUE;
  blocked: u32 = u32.MAX_VALUE;
  defined: bool = false;

  /** `kind`: the strategy's kind without "Strategy" (the sergo_strategy tag). */
  constructor(private ruleId: string, private resource: string, private kind: string) {}

  /** The encoded tags (built once). */
  encodeTags(): string {
    if (this.tags.length == 0) {
      const n = idNames(this.ruleId, this.resource, this.kind);
      const named = n.length == 4;
      this.tags = names.METRIC_PREFIX +
        (named ? names.encodeTag(names.TAG_NAMESPACE, n[0]) + names.encodeTag(names.TAG_APP, n[1]) : "") +
        names.encodeTag(names.TAG_RULE, named ? n[2] : this.ruleId) +
        names.encodeTag(names.TAG_RESOURCE, this.resource) + names.encodeTag(names.TAG_STRATEGY, this.kind) +
        (named ? names.encodeTag(names.TAG_STRATEGY_NAME, n[3]) : "");
    }
    return this.tags;
  }

  /** Defines requests_passed and requests_blocked (once). */
  define(): void {
    this.defined = true;
    this.encodeTags();
    this.passed = this.counter(names.REQUESTS_PASSED);
    this.blocked = this.counter(names.REQUESTS_BLOCKED);
  }

  /** A counter of this rule named `name` (after the tags). */
  counter(name: string): u32 { return defineMetric(MetricType.COUNTER, this.tags, name); }
}

/** The names in an id the translator built, `namespace/app/rule/<kind>Strategy/strategy@resource`
 *  (src/ir/identity.ts): [namespace, app, rule, strategy], none empty. None for an id of another
 *  form (a hand-written configuration): its rule tag is the whole id. Kubernetes names have no `/`,
 *  `@` or `;`, so the split is exact and the tag encoding holds (src/emit/metrics.ts, its mirror). */
function idNames(id: string, resource: string, kind: string): string[] {
  const none: string[] = [];
  const a = id.indexOf("/");
  if (a <= 0) return none;
  const b = id.indexOf("/", a + 1);
  if (b <= a + 1) return none;
  const c = id.indexOf("/", b + 1);
  if (c <= b + 1) return none;
  const d = id.indexOf("/", c + 1);
  if (d <= c + 1) return none;
  const e = id.indexOf("@", d + 1);
  if (e <= d + 1) return none;
  const n = [id.substring(0, a), id.substring(a + 1, b), id.substring(b + 1, c), id.substring(d + 1, e)];
  // Only the exact identity of these names: the labels then give the id back.
  if (id != n[0] + "/" + n[1] + "/" + n[2] + "/" + kind + "Strategy/" + n[3] + "@" + resource) return none;
  return n;
}

/** Process-wide filter metrics. */
export class FilterMetrics {
  casExhausted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CAS_EXHAUSTED);
  configAccepted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_ACCEPTED);
  configRejected: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_REJECTED);
  queueOverflow: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.QUEUE_OVERFLOW);
  inc(id: u32): void { incrementMetric(id, 1); }
}
