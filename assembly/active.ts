// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, each rule's metrics and shared record. Built once per on_configure, taking
// over what it can from the VM's last build (takeover.ts).
import { Config, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { PackedRecord } from "./state/packed";
import { Matcher } from "./match/matcher";
import { STEPS } from "./chain/order";
import { Lanes } from "./lane/config";
import { defineLaneMetrics } from "./lane/lane";
import { PreviousResources, stringHash, takeOverMetrics } from "./takeover";

/** A decoded configuration with everything the request path needs, built once per configure. */
export class ActiveConfig {
  matcher: Matcher = new Matcher();
  resources: Resource[] = [];
  maxQueued: i32 = 1000;
  lanes: Lanes | null = null;
  /** Its rules, in configuration order (the next build takes over their metrics). */
  rules: Rule[] = [];
  /** Rules the VM's previous build had the same (id, resource, kind and parameters); -1: no previous. */
  unchanged: i32 = -1;
  /** It replaced a build that had rules (all garbage now, unless another root still serves them). */
  replacedRules: bool = false;
}

/** The configuration this VM built last, for whichever root context. In Envoy a push gives every
 *  worker a new root context for the new configuration (docs/xds.md), but metric ids are the VM's
 *  and records the process's: what a build can take over from the last one does not depend on the
 *  root it served. */
let lastBuilt: ActiveConfig | null = null;

export function buildActive(config: Config): ActiveConfig {
  const previous = lastBuilt;
  const active = new ActiveConfig();
  const rules = config.rules;
  active.rules = rules;
  active.maxQueued = config.options.maxQueuedPerVm;
  active.lanes = config.lanes;
  if (config.lanes !== null) defineLaneMetrics();
  if (previous !== null) {
    active.replacedRules = previous.rules.length > 0;
    active.unchanged = takeOverMetrics(rules, previous.rules);
  }
  const resources = active.resources;
  placeRules(rules, groupByResource(rules, resources), resources.length);
  const before = previous !== null ? new PreviousResources(previous.resources) : null;
  for (let i = 0; i < resources.length; i++) {
    const resource = unchecked(resources[i]);
    const record = resource.record;
    if (record !== null) {
      const created = (before === null || !before.hadRecord(resource, record)) && record.ensure();
      // A record created now is in zeros: its breakers are closed, and their gauges never moved.
      if (!created) publishStates(resource, record);
    }
    active.matcher.add(resource);
  }
  lastBuilt = active;
  return active;
}

/** Each rule's resource, created (into `resources`) at its first rule; each rule counted there and
 *  prepared. Resources are found by an integer hash of the key (cheaper than a map keyed by
 *  strings); keys of the same hash chain through `Resource.sameHash`. */
function groupByResource(rules: Rule[], resources: Resource[]): StaticArray<Resource> {
  const byHash = new Map<u32, Resource>();
  const resourceOf = new StaticArray<Resource>(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const key = rule.resource;
    const h = stringHash(key);
    const head: Resource | null = byHash.has(h) ? byHash.get(h) : null;
    let resource = head;
    while (resource !== null && resource.key != key) resource = resource.sameHash;
    if (resource === null) {
      resource = new Resource(key);
      resource.index = resources.length;
      resource.sameHash = head;
      byHash.set(h, resource);
      resources.push(resource);
    }
    unchecked(resourceOf[i] = resource);
    resource.count(rule);
    rule.strategy.ruleId = rule.id;   // its metrics' tags (defined on first use)
    rule.strategy.ruleResource = rule.resource;
    rule.strategy.prepareAtConfigure();
  }
  return resourceOf;
}

/** Each resource's rules per step, counted, so that each step's list and each record is made at its
 *  size; then placed in configuration order (sections too). */
function placeRules(rules: Rule[], resourceOf: StaticArray<Resource>, resourceCount: i32): void {
  const unplaced = new StaticArray<i32>(resourceCount * STEPS);
  for (let i = 0; i < rules.length; i++) {
    unchecked(unplaced[unchecked(resourceOf[i]).index * STEPS + unchecked(rules[i]).strategy.step()]++);
  }
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const resource = unchecked(resourceOf[i]);
    const step = rule.strategy.step();
    const k = resource.index * STEPS + step;
    resource.place(rule, step, unchecked(unplaced[k]));
    unchecked(unplaced[k]--);
  }
}

/** The states of the resource's rules that publish one (Strategy.publishState) and are new to this
 *  VM, read from its record (once, if any). */
function publishStates(resource: Resource, record: PackedRecord): void {
  let loaded = false;
  for (let step = 0; step < STEPS; step++) {
    const rules = unchecked(resource.rulesByStep[step]);
    for (let i = 0; i < rules.length; i++) {
      const strategy = unchecked(rules[i]).strategy;
      if (!strategy.publishesState() || strategy.keptState) continue;
      if (!loaded) {
        record.begin();
        record.load(false);
        loaded = true;
      }
      strategy.publishState(record.section(strategy.section));
    }
  }
  if (loaded) record.begin();
}
