// A resource key (`targetResourceName`) and the rules attached to it, grouped by their step of the
// chain (chain/order.ts) so the request path runs the checks in the declared order without sorting.
import { Rule } from "../config/config";
import { STEPS } from "../chain/order";
import { bytesEqual } from "../abi";
import { canonicalize } from "./canonical";
import { PackedRecord } from "../state/packed";

const HEAD = String.UTF8.encode("HEAD");
/** The steps a resource has no rule in share this (never written): most resources have one rule. */
const NO_RULES: Rule[] = [];
const HEAD_BYTES = changetype<usize>(HEAD);

export class Resource {
  /** Rules by step of the chain; within a step, in configuration order. */
  readonly rulesByStep: StaticArray<Rule[]> = new StaticArray<Rule[]>(STEPS);
  /** "" when the key has no METHOD: prefix. */
  readonly method: string;
  readonly methodBytes: ArrayBuffer;
  readonly path: string;
  /** A `GET:` key, which HEAD requests match too. */
  readonly alsoHead: bool;
  /** The state of its packed rules (null when none has state): see packRecord. */
  record: PackedRecord | null = null;

  constructor(public key: string) {
    const slash = key.indexOf("/");
    const method = slash > 0 ? key.substring(0, slash - 1) : "";
    this.method = method;
    this.alsoHead = method == "GET";
    this.methodBytes = String.UTF8.encode(method);
    this.path = canonicalPath(key.substring(slash));
    for (let k = 0; k < STEPS; k++) this.rulesByStep[k] = NO_RULES;
  }

  /** Templates use `{name}` segments or end in `/**`; everything else is an exact key. */
  get isTemplate(): bool { return this.path.includes("{") || this.path.endsWith("/**"); }

  /** Whether a request with this :method (raw bytes) is covered by the key's METHOD, if any. `GET:`
   *  also covers HEAD: frameworks answer HEAD with the GET handler, so it must count against it. */
  acceptsMethod(ptr: usize, len: usize): bool {
    if (this.method.length == 0) return true;
    const mine = changetype<usize>(this.methodBytes);
    const mineLen = <usize>this.methodBytes.byteLength;
    return bytesEqual(mine, mineLen, ptr, len) || (this.alsoHead && bytesEqual(HEAD_BYTES, 4, ptr, len));
  }

  add(rule: Rule): void {
    const step = rule.strategy.step();
    if (this.rulesByStep[step] === NO_RULES) this.rulesByStep[step] = [rule];
    else this.rulesByStep[step].push(rule);
  }

  /** Gives every packed rule its section of one record for this resource, in configuration order
   *  (`rules`: this resource's, as configured), and makes sure the record exists. */
  packRecord(rules: Rule[]): void {
    const keys: ArrayBuffer[] = [];
    const sizes: usize[] = [];
    for (let i = 0; i < rules.length; i++) {
      const strategy = unchecked(rules[i]).strategy;
      if (!unchecked(rules[i]).packed) continue;
      strategy.section = keys.length;
      keys.push(strategy.key);
      sizes.push(strategy.recordSize());
    }
    if (keys.length == 0) return;
    const record = new PackedRecord(this.key, keys, sizes);
    for (let i = 0; i < rules.length; i++) if (unchecked(rules[i]).packed) unchecked(rules[i]).strategy.record = record;
    this.record = record;
    record.ensure();
  }
}

/** A key's path in the canonical form requests are matched in (canonical.ts), so `/a/` keys `/a`. */
function canonicalPath(path: string): string {
  const bytes = String.UTF8.encode(path);
  const len = canonicalize(changetype<usize>(bytes), <usize>bytes.byteLength);
  return String.UTF8.decodeUnsafe(changetype<usize>(bytes), len);
}
