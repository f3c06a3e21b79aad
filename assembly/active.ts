// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, each rule's metrics and shared record. Built once per on_configure.
import { Config, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Matcher } from "./match/matcher";
import { RuleMetrics } from "./metrics";
import { Lanes } from "./lane/config";
import { defineLaneMetrics } from "./lane/lane";

/** A decoded configuration with everything the request path needs, built once per configure. */
export class ActiveConfig {
  matcher: Matcher = new Matcher();
  resources: Resource[] = [];
  maxQueued: i32 = 1000;
  lanes: Lanes | null = null;
}

export function buildActive(config: Config): ActiveConfig {
  const active = new ActiveConfig();
  active.maxQueued = config.options.maxQueuedPerVm;
  active.lanes = config.lanes;
  if (config.lanes !== null) defineLaneMetrics();
  const byKey = new Map<string, i32>();
  const rulesOf: Rule[][] = [];
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    let resource: Resource;
    if (byKey.has(rule.resource)) {
      const at = byKey.get(rule.resource);
      resource = active.resources[at];
      rulesOf[at].push(rule);
    } else {
      resource = new Resource(rule.resource);
      byKey.set(rule.resource, active.resources.length);
      active.resources.push(resource);
      rulesOf.push([rule]);
    }
    resource.add(rule);
    rule.strategy.metrics = new RuleMetrics(rule.id, rule.resource, rule.strategy.name());   // defined on first use
    rule.strategy.defineAtConfigure();
  }
  for (let i = 0; i < active.resources.length; i++) {
    active.resources[i].packRecord(rulesOf[i]);
    active.matcher.add(active.resources[i]);
  }
  return active;
}
