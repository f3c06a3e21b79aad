// Filter metrics. Envoy stores them as `wasmcustom.<name>`; tags are encoded in the name the way
// Istio does (names.ts), so a `stats_tags` rule per tag (emitted by `sergo translate --format envoy`)
// turns them into Prometheus labels: sergo_requests_passed{sergo_rule="…",sergo_resource="…",…}.
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

  constructor(private ruleId: string, private resource: string, private strategyName: string) {}

  /** The encoded tags (built once). */
  encodeTags(): string {
    if (this.tags.length == 0) {
      this.tags = names.METRIC_PREFIX + names.encodeTag(names.TAG_RULE, this.ruleId) +
        names.encodeTag(names.TAG_RESOURCE, this.resource) + names.encodeTag(names.TAG_STRATEGY, this.strategyName);
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

/** Process-wide filter metrics. */
export class FilterMetrics {
  casExhausted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CAS_EXHAUSTED);
  configAccepted: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_ACCEPTED);
  configRejected: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.CONFIG_REJECTED);
  queueOverflow: u32 = defineMetric(MetricType.COUNTER, names.METRIC_PREFIX, names.QUEUE_OVERFLOW);
  inc(id: u32): void { incrementMetric(id, 1); }
}
