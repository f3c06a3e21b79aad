// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, each rule's metrics and shared record. Built once per on_configure.
import { Config, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Matcher } from "./match/matcher";
import { FNV_OFFSET, fnv } from "./match/hash";
import { STEPS } from "./chain/order";
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
  const byHash = new Map<u32, Resource>();
  const rules = config.rules;
  const resources = active.resources;
  const resourceOf = new StaticArray<Resource>(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const resource = resourceFor(byHash, resources, rule.resource);
    unchecked(resourceOf[i] = resource);
    resource.count(rule);
    rule.strategy.ruleId = rule.id;   // its metrics' tags (defined on first use)
    rule.strategy.ruleResource = rule.resource;
    rule.strategy.defineAtConfigure();
  }
  // Each resource's rules per step, counted, so that each step's list and each record is made at
  // its size; then placed in configuration order (sections too).
  const unplaced = new StaticArray<i32>(resources.length * STEPS);
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
  for (let i = 0; i < resources.length; i++) {
    const resource = unchecked(resources[i]);
    const record = resource.record;
    if (record !== null) record.ensure();
    active.matcher.add(resource);
  }
  return active;
}

/** The resource of this key, created (and added to `resources`) at its first rule. Found by an FNV
 *  hash of the key in an integer map, cheaper than a map keyed by strings; keys of the same hash
 *  chain through `Resource.sameHash`. */
function resourceFor(byHash: Map<u32, Resource>, resources: Resource[], key: string): Resource {
  const h = fnv(FNV_OFFSET, changetype<usize>(key), <usize>key.length << 1);
  const head: Resource | null = byHash.has(h) ? byHash.get(h) : null;
  let r = head;
  while (r !== null) {
    if (r.key == key) return r;
    r = r.sameHash;
  }
  const created = new Resource(key);
  created.index = resources.length;
  created.sameHash = head;
  byHash.set(h, created);
  resources.push(created);
  return created;
}
