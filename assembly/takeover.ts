// What a configure takes over from the configuration its VM built last (active.ts), so that a push
// costs nothing for the rules it keeps: their metric ids (Envoy adds an id for every define and
// never frees one) and the records the VM had in the same layout (no read at every push, in every
// VM, for every resource).
import { Rule } from "./config/config";
import { Resource } from "./match/resource";
import { PackedRecord } from "./state/packed";
import { FNV_OFFSET, fnvByte } from "./match/hash";

/** A string's hash, FNV's step over its UTF-16 units two at a time (a VM's own: never stored). */
export function stringHash(s: string, h: u32 = FNV_OFFSET): u32 {
  const p = changetype<usize>(s);
  const n = <usize>s.length << 1;
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) h = fnvByte(h, load<u32>(p + i));
  return i < n ? fnvByte(h, <u32>load<u16>(p + i)) : h;
}

/** Each rule the previous build had too — same id, resource and kind, so the same metric names —
 *  takes over the metrics defined there (Strategy.adoptMetrics); one with the same state key too
 *  is marked kept (Strategy.keptState). Returns how many are kept. Found by a hash of id and
 *  resource; of rules with the same hash only the first is looked at (a rule missed defines its own). */
export function takeOverMetrics(rules: Rule[], previous: Rule[]): i32 {
  if (previous.length == 0) return 0;   // the empty start-up configuration: nothing to hash
  const byHash = new Map<u32, Rule>();
  for (let i = 0; i < previous.length; i++) {
    const old = unchecked(previous[i]);
    const h = metricsHash(old);
    if (!byHash.has(h)) byHash.set(h, old);
  }
  let kept = 0;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const h = metricsHash(rule);
    if (!byHash.has(h)) continue;
    const old = byHash.get(h);
    if (old.id != rule.id || old.resource != rule.resource || old.strategy.name() != rule.strategy.name()) continue;
    rule.strategy.adoptMetrics(old.strategy);
    if (sameBytes(old.strategy.key, rule.strategy.key)) {
      rule.strategy.keptState = true;
      kept++;
    }
  }
  return kept;
}

function metricsHash(rule: Rule): u32 { return stringHash(rule.resource, stringHash(rule.id)); }

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  return a.byteLength == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

/** The previous build's resources, by key. */
export class PreviousResources {
  /** The last resource of each key hash, where its sameHash chain (made by that build) starts. */
  private byHash: Map<u32, Resource> = new Map<u32, Resource>();

  constructor(resources: Resource[]) {
    for (let i = 0; i < resources.length; i++) {
      const r = unchecked(resources[i]);
      this.byHash.set(stringHash(r.key), r);
    }
  }

  /** Whether the previous build had this resource's record, in the same layout: this VM made sure
   *  of it then, and it still exists (shared-data keys are never deleted), so it need not be read.
   *  A layout another worker wrote since is met by the requests' load as ensure would meet it. */
  hadRecord(resource: Resource, record: PackedRecord): bool {
    const key = resource.key;
    const h = stringHash(key);
    let r: Resource | null = this.byHash.has(h) ? this.byHash.get(h) : null;
    while (r !== null && r.key != key) r = r.sameHash;
    if (r === null) return false;
    const old = r.record;
    return old !== null && record.sameLayout(old);
  }
}
