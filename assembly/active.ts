// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, each rule's metrics and shared record. Built once per on_configure.
import { Config, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Matcher } from "./match/matcher";
import { FNV_OFFSET, fnv } from "./match/hash";
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
    resource.add(rule);
    rule.strategy.ruleId = rule.id;   // its metrics' tags (defined on first use)
    rule.strategy.ruleResource = rule.resource;
    rule.strategy.defineAtConfigure();
  }
  // Sections in configuration order, once each resource knows how many it has.
  for (let i = 0; i < rules.length; i++) {
    if (unchecked(rules[i]).packed) unchecked(resourceOf[i]).pack(unchecked(rules[i]));
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
  created.sameHash = head;
  byHash.set(h, created);
  resources.push(created);
  return created;
}
