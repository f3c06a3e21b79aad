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
const GET = String.UTF8.encode("GET");
const NO_METHOD = new ArrayBuffer(0);

export class Resource {
  /** Rules by step of the chain; within a step, in configuration order. */
  readonly rulesByStep: StaticArray<Rule[]> = new StaticArray<Rule[]>(STEPS);
  /** The key's METHOD (empty when it has no `METHOD:` prefix). */
  readonly methodBytes: ArrayBuffer;
  /** The key's path in the canonical form requests are matched in (canonical.ts), so `/a/` keys
   *  `/a`: its first `pathLength` bytes. */
  readonly pathBytes: ArrayBuffer;
  readonly pathLength: i32;
  /** A `GET:` key, which HEAD requests match too. */
  readonly alsoHead: bool;
  /** Templates use `{name}` segments or end in `/**`; everything else is an exact key. */
  readonly isTemplate: bool;
  /** The state of its packed rules (null when none has state): see pack. */
  record: PackedRecord | null = null;
  /** The next exact resource of the same path hash (Matcher). */
  nextExact: Resource | null = null;
  private packedRules: i32 = 0;
  private packedSections: i32 = 0;

  constructor(public key: string) {
    // Keys are printable ASCII (config.ts): a character is a byte, encoded straight from the key.
    const slash = key.indexOf("/");
    const methodLength = slash > 0 ? slash - 1 : 0;
    const method = methodLength > 0 ? asciiBytes(key, 0, methodLength) : NO_METHOD;
    const from = max(slash, 0);
    const path = asciiBytes(key, from, key.length - from);
    const p = changetype<usize>(path);
    const n = <i32>canonicalize(p, <usize>path.byteLength);
    this.methodBytes = method;
    this.alsoHead = bytesEqual(changetype<usize>(method), <usize>methodLength, changetype<usize>(GET), 3);
    this.pathBytes = path;
    this.pathLength = n;
    this.isTemplate = hasBrace(p, n) || (n >= 3 && memory.compare(p + <usize>n - 3, changetype<usize>(REST), 3) == 0);
    for (let k = 0; k < STEPS; k++) this.rulesByStep[k] = NO_RULES;
  }

  /** Whether a request with this :method (raw bytes) is covered by the key's METHOD, if any. `GET:`
   *  also covers HEAD: frameworks answer HEAD with the GET handler, so it must count against it. */
  acceptsMethod(ptr: usize, len: usize): bool {
    const mineLen = <usize>this.methodBytes.byteLength;
    if (mineLen == 0) return true;
    const mine = changetype<usize>(this.methodBytes);
    return bytesEqual(mine, mineLen, ptr, len) || (this.alsoHead && bytesEqual(HEAD_BYTES, 4, ptr, len));
  }

  add(rule: Rule): void {
    const step = rule.strategy.step();
    if (this.rulesByStep[step] === NO_RULES) this.rulesByStep[step] = [rule];
    else this.rulesByStep[step].push(rule);
    if (rule.packed) this.packedRules++;
  }

  /** Gives a packed rule (after `add`, in configuration order) the next section of the one record
   *  of this resource. */
  pack(rule: Rule): void {
    let record = this.record;
    if (record === null) this.record = record = new PackedRecord(this.key, this.packedRules);
    const strategy = rule.strategy;
    strategy.section = this.packedSections++;
    strategy.record = record;
    record.add(strategy.section, strategy.key, strategy.recordSize());
  }
}

const REST = String.UTF8.encode("/**");

/** Characters [from, from + n) of an ASCII string, as bytes. */
function asciiBytes(s: string, from: i32, n: i32): ArrayBuffer {
  const bytes = new ArrayBuffer(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s) + (<usize>from << 1), n, changetype<usize>(bytes));
  return bytes;
}

function hasBrace(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0x7b) return true;
  return false;
}
