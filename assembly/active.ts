// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, per-rule metrics, the pacing tick. Built once per on_configure.
import { Config } from "./config/config";
import { Resource } from "./match/resource";
import { Matcher } from "./match/matcher";
import { Kind, kindName } from "./strategies/strategy";
import { Throttling } from "./strategies/throttling";
import { ensureRecord } from "./state/shared";
import { RuleMetrics } from "./metrics";

/** A decoded configuration with everything the request path needs, built once per configure. */
export class ActiveConfig {
  matcher: Matcher = new Matcher();
  resources: Resource[] = [];
  metrics: RuleMetrics[] = [];
  maxQueued: i32 = 1000;
  tickPeriodMs: u32 = 0;
  constructor(public config: Config) {}
}

function gcd(a: i64, b: i64): i64 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

export function buildActive(config: Config): ActiveConfig {
  const active = new ActiveConfig(config);
  active.maxQueued = config.options.maxQueuedPerVm;
  const byKey = new Map<string, Resource>();
  let tick: i64 = 0;
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    let resource: Resource;
    if (byKey.has(rule.resource)) resource = byKey.get(rule.resource);
    else {
      resource = new Resource(rule.resource);
      byKey.set(rule.resource, resource);
      active.resources.push(resource);
    }
    resource.add(rule);
    const kind = rule.strategy.kind;
    const metrics = new RuleMetrics(rule.id, rule.resource, kindName(kind, false), kind == Kind.Throttling,
                                    kind == Kind.CircuitBreaker, rule.strategy.remote);
    rule.strategy.metrics = metrics;
    active.metrics.push(metrics);
    if (rule.strategy.recordSize() > 0) ensureRecord(rule.strategy.key, rule.strategy.recordSize());
    if (kind == Kind.Throttling) {
      const interval = (rule.strategy as Throttling).intervalMs;
      // Ticks every gcd(100 ms, intervals): resumes land on the slot grid, so paced requests keep
      // their spacing, and an idle VM wakes at most every 100 ms.
      if (interval > 0) tick = gcd(tick == 0 ? 100 : tick, interval);
    }
  }
  for (let i = 0; i < active.resources.length; i++) active.matcher.add(active.resources[i]);
  active.tickPeriodMs = <u32>tick;
  return active;
}
