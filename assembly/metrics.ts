// Filter metrics, defined through proxy_define_metric once per configure. Envoy stores them as
// `wasmcustom.<name>`; tags are encoded in the name the way Istio does (`tag=.=value;.;`), so a
// `stats_tags` rule per tag (emitted by `sergo translate --format envoy`) turns them into Prometheus
// labels: sergo_requests_passed{sergo_rule="…",sergo_resource="…",sergo_strategy="…"}.
import { MetricType, defineMetric, incrementMetric, recordMetric } from "./abi";

function tag(name: string, value: string): string { return name + "=.=" + value + ";.;"; }

export class RuleMetrics {
  passed: u32;
  blocked: u32;
  queued: u32 = u32.MAX_VALUE;
  dequeued: u32 = u32.MAX_VALUE;
  breakerState: u32 = u32.MAX_VALUE;
  rlsOk: u32 = u32.MAX_VALUE;
  rlsOverLimit: u32 = u32.MAX_VALUE;
  rlsErrors: u32 = u32.MAX_VALUE;
  rlsFailedOpen: u32 = u32.MAX_VALUE;
  /** Transition counters indexed from * 3 + to (closed 0, open 1, half-open 2). */
  transitions: StaticArray<u32> = new StaticArray<u32>(9);

  constructor(ruleId: string, resource: string, strategyKind: string, throttling: bool, breaker: bool, remote: bool) {
    const tags = "sergo." + tag("sergo_rule", ruleId) + tag("sergo_resource", resource) + tag("sergo_strategy", strategyKind);
    this.passed = defineMetric(MetricType.COUNTER, tags + "requests_passed");
    this.blocked = defineMetric(MetricType.COUNTER, tags + "requests_blocked");
    if (throttling) {
      this.queued = defineMetric(MetricType.COUNTER, tags + "requests_queued");
      this.dequeued = defineMetric(MetricType.COUNTER, tags + "requests_dequeued");
    }
    if (remote) {
      this.rlsOk = defineMetric(MetricType.COUNTER, tags + "rls_ok");
      this.rlsOverLimit = defineMetric(MetricType.COUNTER, tags + "rls_over_limit");
      this.rlsErrors = defineMetric(MetricType.COUNTER, tags + "rls_errors");
      this.rlsFailedOpen = defineMetric(MetricType.COUNTER, tags + "rls_failed_open");
    }
    for (let i = 0; i < 9; i++) this.transitions[i] = u32.MAX_VALUE;
    if (breaker) {
      this.breakerState = defineMetric(MetricType.GAUGE, tags + "breaker_state");
      const names: StaticArray<string> = ["closed", "open", "half_open"];
      for (let from = 0; from < 3; from++) {
        for (let to = 0; to < 3; to++) {
          if (from == to) continue;
          this.transitions[from * 3 + to] = defineMetric(MetricType.COUNTER,
            tags + tag("sergo_from", names[from]) + tag("sergo_to", names[to]) + "breaker_transitions");
        }
      }
    }
  }

  transition(from: u32, to: u32): void {
    incrementMetric(this.transitions[<i32>(from * 3 + to)], 1);
    recordMetric(this.breakerState, <u64>to);
  }
}

/** Process-wide filter metrics. */
export class FilterMetrics {
  casExhausted: u32 = defineMetric(MetricType.COUNTER, "sergo.cas_exhausted");
  configAccepted: u32 = defineMetric(MetricType.COUNTER, "sergo.config_accepted");
  configRejected: u32 = defineMetric(MetricType.COUNTER, "sergo.config_rejected");
  queueOverflow: u32 = defineMetric(MetricType.COUNTER, "sergo.queue_overflow");
  inc(id: u32): void { incrementMetric(id, 1); }
}
