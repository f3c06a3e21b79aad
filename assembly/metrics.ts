// Filter metrics, defined through proxy_define_metric once per configure. Envoy stores them as
// `wasmcustom.<name>`; tags are encoded in the name the way Istio does (names.ts), so a
// `stats_tags` rule per tag (emitted by `sergo translate --format envoy`) turns them into Prometheus
// labels: sergo_requests_passed{sergo_rule="…",sergo_resource="…",sergo_strategy="…"}.
// Every rule has the two below; a strategy defines its own beside them (Strategy.defineMetrics).
//
// requests_passed and requests_blocked move with every request, so they are counted in the VM and
// handed to the host on the worker's tick, FLUSH_MS after the first count since the last flush
// (one increment per metric then, none per request): a scrape sees them at most that late.
import { MetricType, defineMetric, incrementMetric } from "./abi";
import * as names from "./names";

/** How long a request's count may wait in the VM before the worker's tick hands it to the host. */
export const FLUSH_MS: i64 = names.METRICS_FLUSH_MS;

/** Rules with counts not yet handed to the host (each at most once). */
const unflushed: RuleMetrics[] = [];

export function countsPending(): bool { return unflushed.length > 0; }

/** Hands every pending count to the host. */
export function flushCounts(): void {
  for (let i = 0; i < unflushed.length; i++) unchecked(unflushed[i]).flush();
  unflushed.length = 0;
}

export class RuleMetrics {
  /** The rule's tags, encoded: the prefix of every metric of this rule. */
  readonly tags: string;
  readonly passed: u32;
  readonly blocked: u32;
  private passedPending: i64 = 0;
  private blockedPending: i64 = 0;
  private queued: bool = false;

  constructor(ruleId: string, resource: string, strategyName: string) {
    this.tags = names.METRIC_PREFIX + names.encodeTag(names.TAG_RULE, ruleId) +
      names.encodeTag(names.TAG_RESOURCE, resource) + names.encodeTag(names.TAG_STRATEGY, strategyName);
    this.passed = this.counter(names.REQUESTS_PASSED);
    this.blocked = this.counter(names.REQUESTS_BLOCKED);
  }

  countPassed(): void { this.passedPending++; this.queue(); }
  countBlocked(): void { this.blockedPending++; this.queue(); }

  private queue(): void {
    if (this.queued) return;
    this.queued = true;
    unflushed.push(this);
  }

  flush(): void {
    if (this.passedPending > 0) incrementMetric(this.passed, this.passedPending);
    if (this.blockedPending > 0) incrementMetric(this.blocked, this.blockedPending);
    this.passedPending = 0;
    this.blockedPending = 0;
    this.queued = false;
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
