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
  const rules = config.rules;
  const resources = active.resources;
  const resourceOf = new StaticArray<i32>(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    let at: i32;
    if (byKey.has(rule.resource)) {
      at = byKey.get(rule.resource);
    } else {
      at = resources.length;
      byKey.set(rule.resource, at);
      resources.push(new Resource(rule.resource));
    }
    unchecked(resourceOf[i] = at);
    unchecked(resources[at]).add(rule);
    rule.strategy.metrics = new RuleMetrics(rule.id, rule.resource, rule.strategy.name());   // defined on first use
    rule.strategy.defineAtConfigure();
  }
  // Sections in configuration order, once each resource knows how many it has.
  for (let i = 0; i < rules.length; i++) {
    if (unchecked(rules[i]).packed) unchecked(resources[unchecked(resourceOf[i])]).pack(unchecked(rules[i]));
  }
  for (let i = 0; i < resources.length; i++) {
    const resource = unchecked(resources[i]);
    const record = resource.record;
    if (record !== null) record.ensure();
    active.matcher.add(resource);
  }
  return active;
}
