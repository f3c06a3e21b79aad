// Filter metrics, defined through proxy_define_metric once per configure. Envoy stores them as
// `wasmcustom.<name>`; tags are encoded in the name the way Istio does (names.ts), so a
// `stats_tags` rule per tag (emitted by `sergo translate --format envoy`) turns them into Prometheus
// labels: sergo_requests_passed{sergo_rule="…",sergo_resource="…",sergo_strategy="…"}.
// Every rule has the two below; a strategy defines its own beside them (Strategy.defineMetrics).
import { MetricType, defineMetric, incrementMetric } from "./abi";
import * as names from "./names";

export class RuleMetrics {
  /** The rule's tags, encoded: the prefix of every metric of this rule. */
  readonly tags: string;
  readonly passed: u32;
  readonly blocked: u32;

  constructor(ruleId: string, resource: string, strategyName: string) {
    this.tags = names.METRIC_PREFIX + names.encodeTag(names.TAG_RULE, ruleId) +
      names.encodeTag(names.TAG_RESOURCE, resource) + names.encodeTag(names.TAG_STRATEGY, strategyName);
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
