// A resource key (`targetResourceName`) and the rules attached to it, grouped by their step of the
// chain (chain/order.ts) so the request path runs the checks in the declared order without sorting.
import { Rule } from "../config/config";
import { STEPS } from "../chain/order";
import { bytesEqual, writeAscii } from "../abi";
import { canonicalize } from "./canonical";
import { PackedRecord } from "../state/packed";

const HEAD = String.UTF8.encode("HEAD");
/** The steps a resource has no rule in share this (never written): most resources have one rule. */
const NO_RULES = new StaticArray<Rule>(0);
const HEAD_BYTES = changetype<usize>(HEAD);
const GET = String.UTF8.encode("GET");

export class Resource {
  /** Rules by step of the chain; within a step, in configuration order. */
  readonly rulesByStep: StaticArray<StaticArray<Rule>> = new StaticArray<StaticArray<Rule>>(STEPS);
  /** The key in bytes: its METHOD (the first methodLength bytes; none without a `METHOD:` prefix)
   *  and at pathPtr its path, in the canonical form requests are matched in (canonical.ts), so
   *  `/a/` keys `/a`. */
  private readonly bytes: ArrayBuffer;
  readonly methodLength: i32;
  readonly pathPtr: usize;
  readonly pathLength: i32;
  /** A `GET:` key, which HEAD requests match too. */
  readonly alsoHead: bool;
  /** Templates use `{name}` segments or end in `/**`; everything else is an exact key. */
  readonly isTemplate: bool;
  /** The state of its packed rules (null when none has state): see pack. */
  record: PackedRecord | null = null;
  /** The next exact resource of the same path hash (Matcher). */
  nextExact: Resource | null = null;
  /** The next resource of the same key hash (buildActive). */
  sameHash: Resource | null = null;
  /** Its place in ActiveConfig.resources. */
  index: i32 = 0;
  /** Packed rules counted (count), and given a section (place). */
  private packedRules: i32 = 0;
  private packedSections: i32 = 0;

  constructor(public key: string) {
    const bytes = new ArrayBuffer(key.length);   // printable ASCII (abi/memory.ts writeAscii)
    writeAscii(changetype<usize>(key), <usize>key.length, changetype<usize>(bytes));
    const slash = key.indexOf("/");
    const methodLength = slash > 0 ? slash - 1 : 0;
    const p = changetype<usize>(bytes) + <usize>max(slash, 0);
    const n = <i32>canonicalize(p, <usize>(key.length - max(slash, 0)));
    this.bytes = bytes;
    this.methodLength = methodLength;
    this.alsoHead = bytesEqual(changetype<usize>(bytes), <usize>methodLength, changetype<usize>(GET), 3);
    this.pathPtr = p;
    this.pathLength = n;
    this.isTemplate = hasBrace(p, n) || (n >= 3 && memory.compare(p + <usize>n - 3, changetype<usize>(REST), 3) == 0);
    for (let k = 0; k < STEPS; k++) this.rulesByStep[k] = NO_RULES;
  }

  /** Whether a request with this :method (raw bytes) is covered by the key's METHOD, if any. `GET:`
   *  also covers HEAD: frameworks answer HEAD with the GET handler, so it must count against it. */
  acceptsMethod(ptr: usize, len: usize): bool {
    const mineLen = <usize>this.methodLength;
    if (mineLen == 0) return true;
    const mine = changetype<usize>(this.bytes);
    return bytesEqual(mine, mineLen, ptr, len) || (this.alsoHead && bytesEqual(HEAD_BYTES, 4, ptr, len));
  }

  /** A rule of this resource, counted before any is placed. */
  count(rule: Rule): void {
    if (rule.packed) this.packedRules++;
  }

  /** Places a rule (in configuration order, once all are counted) at its step, which has
   *  `unplaced` rules left to place, this one included; a packed rule gets the next section of the
   *  one record of this resource. */
  place(rule: Rule, step: i32, unplaced: i32): void {
    let rules = unchecked(this.rulesByStep[step]);
    if (rules === NO_RULES) unchecked(this.rulesByStep[step] = rules = new StaticArray<Rule>(unplaced));
    unchecked(rules[rules.length - unplaced] = rule);
    if (rule.packed) this.pack(rule);
  }

  private pack(rule: Rule): void {
    let record = this.record;
    if (record === null) this.record = record = new PackedRecord(this.key, this.packedRules);
    const strategy = rule.strategy;
    strategy.section = this.packedSections++;
    strategy.record = record;
    record.add(strategy.section, strategy.key, strategy.recordSize());
  }
}

const REST = String.UTF8.encode("/**");

function hasBrace(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0x7b) return true;
  return false;
}
