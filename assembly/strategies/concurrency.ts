// ConcurrencyLimitStrategy (limitMode Local): at most `maxConcurrency` requests in flight across all
// worker VMs. State: one record per rule holding the in-flight count (i64). A check increments it
// under CAS unless it is at the limit; the slot is given back exactly once, by withdraw (the request
// never reached the upstream) or by finish (its stream ended) — the chain guarantees that.
// `maxConcurrency: 0` admits nothing (as Sentinel-Java; Sentinel-Go ignores such a rule).
import { Strategy } from "./strategy";
import { KeyWriter } from "./key";
import { CheckResult } from "../chain/result";
import { STEP_CONCURRENCY } from "../chain/order";
import { Outcome } from "../http";
import { StrategyInput, MAX_INT } from "../config/reader";

const RECORD_BYTES: usize = 8;

const enum Edit { Take, Refund }

export class ConcurrencyLimit extends Strategy {
  private edit: Edit = Edit.Take;

  constructor(public maxConcurrency: i64) { super(); }

  name(): string { return "ConcurrencyLimit"; }
  step(): i32 { return STEP_CONCURRENCY; }
  writeSignature(k: KeyWriter): void { k.text("c=").int(this.maxConcurrency); }
  recordSize(): usize { return RECORD_BYTES; }

  take(ptr: usize, now: i64, result: CheckResult): bool {
    if (this.maxConcurrency <= 0) { result.block(); return false; }
    this.edit = Edit.Take;
    if (!this.apply(ptr)) { result.block(); return false; }
    result.passWith(0);
    return true;
  }

  endsWithStream(): bool { return true; }
  giveBack(ptr: usize, reservation: i64, now: i64): bool { return this.refund(ptr); }
  ended(ptr: usize, reservation: i64, outcome: Outcome, status: u32, elapsedMs: i64, now: i64): bool { return this.refund(ptr); }

  private refund(ptr: usize): bool {
    this.edit = Edit.Refund;
    return this.apply(ptr);
  }

  apply(ptr: usize): bool {
    const inFlight = load<i64>(ptr);
    if (this.edit == Edit.Take) {
      if (inFlight >= this.maxConcurrency) return false;
      store<i64>(ptr, inFlight + 1);
      return true;
    }
    if (inFlight <= 0) return false;
    store<i64>(ptr, inFlight - 1);
    return true;
  }
}

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const FIELDS: StaticArray<string> = ["kind", "maxConcurrency"];

/** {"kind":"ConcurrencyLimit","maxConcurrency":N} */
export function decodeConcurrencyLimit(input: StrategyInput): Strategy | null {
  const r = input.reader;
  if (!r.fields(input.spec, input.at, FIELDS)) return null;
  const max = r.intOf(r.field(1), input.at, "maxConcurrency", 0, MAX_INT, true, 0);
  return r.ok ? new ConcurrencyLimit(max) : null;
}
