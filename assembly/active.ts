// The configuration in force on one root context: decoded rules grouped into resources, the
// matcher over them, each rule's metrics and shared record. Built once per on_configure.
import { Config, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { PackedRecord } from "./state/packed";
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
  /** Its rules, in configuration order (the next configuration takes over their metrics). */
  rules: Rule[] = [];
  /** Rules the VM's previous build had the same (id, resource, kind and parameters); -1: no previous. */
  unchanged: i32 = -1;
}

/** The configuration this VM built last, for whichever root context. In Envoy a push gives every
 *  worker a new root context for the new configuration (docs/xds.md), but metric ids are the VM's
 *  and records the process's: what a build can take over from the last one does not depend on the
 *  root it served. */
let lastBuilt: ActiveConfig | null = null;

/** The active configuration of `config`. Its rules that the VM's last build had too keep their
 *  metrics, and its records that build had in the same layout are not read again. */
export function buildActive(config: Config): ActiveConfig {
  const previous = lastBuilt;
  const active = new ActiveConfig();
  active.rules = config.rules;
  active.maxQueued = config.options.maxQueuedPerVm;
  active.lanes = config.lanes;
  if (config.lanes !== null) defineLaneMetrics();
  const byHash = new Map<u32, Resource>();
  const rules = config.rules;
  const resources = active.resources;
  const resourceOf = new StaticArray<Resource>(rules.length);
  if (previous !== null) active.unchanged = adoptMetrics(rules, previous.rules);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const resource = resourceFor(byHash, resources, rule.resource);
    unchecked(resourceOf[i] = resource);
    resource.count(rule);
    rule.strategy.ruleId = rule.id;   // its metrics' tags (defined on first use)
    rule.strategy.ruleResource = rule.resource;
    rule.strategy.prepareAtConfigure();
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
  const before = previous !== null ? byKeyHash(previous.resources) : null;   // the previous build's resources
  for (let i = 0; i < resources.length; i++) {
    const resource = unchecked(resources[i]);
    const record = resource.record;
    if (record !== null) {
      if (before === null || !hadRecord(before, resource, record)) record.ensure();
      publishStates(resource, record);
    }
    active.matcher.add(resource);
  }
  lastBuilt = active;
  return active;
}

/** Whether the previous configuration had this resource's record, in the same layout: this VM made
 *  sure of it then, and it still exists (shared-data keys are never deleted), so a reload need not
 *  read it (10,000 reads, in every VM, at every push). A layout another worker wrote since is met
 *  by the requests' load as ensure would meet it. */
function hadRecord(before: Map<u32, Resource>, resource: Resource, record: PackedRecord): bool {
  const key = resource.key;
  const h = keyHash(key);
  let r: Resource | null = before.has(h) ? before.get(h) : null;
  while (r !== null && r.key != key) r = r.sameHash;
  if (r === null) return false;
  const old = r.record;
  return old !== null && record.sameLayout(old);
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

/** A configuration's resources by key hash: the last of each hash, where its sameHash chain starts. */
function byKeyHash(resources: Resource[]): Map<u32, Resource> {
  const map = new Map<u32, Resource>();
  for (let i = 0; i < resources.length; i++) {
    const r = unchecked(resources[i]);
    map.set(keyHash(r.key), r);
  }
  return map;
}

function keyHash(key: string): u32 { return fnv(FNV_OFFSET, changetype<usize>(key), <usize>key.length << 1); }

/** Each rule that `previous` had too — same id, resource and kind, so the same metric names —
 *  takes over the metrics defined there (Strategy.adoptMetrics). Found by a hash of id and resource;
 *  of rules with the same hash only the first is looked at (a rule missed defines its own). */
function adoptMetrics(rules: Rule[], previous: Rule[]): i32 {
  const byHash = new Map<u32, Rule>();
  for (let i = 0; i < previous.length; i++) {
    const old = unchecked(previous[i]);
    const h = metricsHash(old);
    if (!byHash.has(h)) byHash.set(h, old);
  }
  let unchanged = 0;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const h = metricsHash(rule);
    if (!byHash.has(h)) continue;
    const old = byHash.get(h);
    if (old.id == rule.id && old.resource == rule.resource && old.strategy.name() == rule.strategy.name()) {
      rule.strategy.adoptMetrics(old.strategy);
      if (sameBytes(old.strategy.key, rule.strategy.key)) {
        rule.strategy.keptState = true;
        unchanged++;
      }
    }
  }
  return unchanged;
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  return a.byteLength == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

function metricsHash(rule: Rule): u32 {
  const id = rule.id;
  const resource = rule.resource;
  return fnv(fnv(FNV_OFFSET, changetype<usize>(id), <usize>id.length << 1), changetype<usize>(resource), <usize>resource.length << 1);
}

/** The resource of this key, created (and added to `resources`) at its first rule. Found by an FNV
 *  hash of the key in an integer map, cheaper than a map keyed by strings; keys of the same hash
 *  chain through `Resource.sameHash`. */
function resourceFor(byHash: Map<u32, Resource>, resources: Resource[], key: string): Resource {
  const h = keyHash(key);
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
