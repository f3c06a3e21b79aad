// RateLimitStrategy (limitMode Local): at most `threshold` requests admitted in any window of
// `windowMs`, across all worker VMs.
//
// State: one record per rule, a ring of BUCKETS + 1 buckets of width windowMs / BUCKETS, each
// (i64 bucket number, u32 count). A check sums the buckets of the last BUCKETS + 1 bucket numbers —
// every window of `windowMs` lies inside them, so the limit is never exceeded — and, when the sum is
// below the threshold, increments the current bucket under CAS. A full burst is therefore released
// one bucket width after the window (windowMs + windowMs / BUCKETS).
// Reservation: the bucket number; a refund decrements that bucket if it is still in the ring.
import { Strategy } from "./strategy";
import { KeyWriter } from "./key";
import { GlobalRateLimit } from "./global-ratelimit";
import { CheckResult } from "../chain/result";
import { STEP_RATE_LIMIT } from "../chain/order";
import { NONE } from "../config/json";
import { StrategyInput, MAX_INT } from "../config/reader";

const BUCKETS: i64 = 10;
const SLOT_BYTES: usize = 12;

const enum Edit { Take, Refund }

export class RateLimit extends Strategy {
  private bucketMs: i64;
  private buckets: i64;
  private slots: i64;
  // Inputs of the current edit (see RecordEdit).
  private edit: Edit = Edit.Take;
  private editBucket: i64 = 0;

  constructor(public threshold: i64, public windowMs: i64) {
    super();
    this.bucketMs = windowMs >= BUCKETS ? (windowMs + BUCKETS - 1) / BUCKETS : 1;
    this.buckets = (windowMs + this.bucketMs - 1) / this.bucketMs;
    this.slots = this.buckets + 1;
  }

  name(): string { return "RateLimit"; }
  step(): i32 { return STEP_RATE_LIMIT; }
  writeSignature(k: KeyWriter): void { k.text("t=").int(this.threshold).text(",w=").int(this.windowMs); }
  recordSize(): usize { return <usize>this.slots * SLOT_BYTES; }

  take(ptr: usize, now: i64, result: CheckResult): bool {
    if (this.threshold <= 0) { result.block(); return false; }
    this.edit = Edit.Take;
    this.editBucket = now / this.bucketMs;
    if (!this.apply(ptr)) { result.block(); return false; }
    result.passWith(this.editBucket);
    return true;
  }

  giveBack(ptr: usize, reservation: i64, now: i64): bool {
    this.edit = Edit.Refund;
    this.editBucket = reservation;
    return this.apply(ptr);
  }

  apply(ptr: usize): bool {
    const bucket = this.editBucket;
    const slot = ptr + <usize>(bucket % this.slots) * SLOT_BYTES;
    if (this.edit == Edit.Refund) {
      if (load<i64>(slot) != bucket) return false;
      const count = load<u32>(slot, 8);
      if (count == 0) return false;
      store<u32>(slot, count - 1, 8);
      return true;
    }
    let sum: i64 = 0;
    const oldest = bucket - this.buckets;
    for (let i: i64 = 0; i < this.slots; i++) {
      const p = ptr + <usize>i * SLOT_BYTES;
      const b = load<i64>(p);
      if (b >= oldest && b <= bucket) sum += <i64>load<u32>(p, 8);
    }
    if (sum >= this.threshold) return false;
    if (load<i64>(slot) != bucket) {
      store<i64>(slot, bucket);
      store<u32>(slot, 0, 8);
    }
    store<u32>(slot, load<u32>(slot, 8) + 1, 8);
    return true;
  }
}

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const FIELDS: StaticArray<string> = ["kind", "threshold", "windowMs", "mode", "failOpen", "batch", "statusOnError"];

/** {"kind":"RateLimit","threshold":N,"windowMs":W} — and, with "mode":"Global", a GlobalRateLimit. */
export function decodeRateLimit(input: StrategyInput): Strategy | null {
  const s = input.spec;
  const at = input.at;
  const r = input.reader;
  const j = input.json;
  if (!r.fields(s, at, FIELDS)) return null;
  const threshold = r.intOf(r.field(1), at, "threshold", 0, MAX_INT, true, 0);
  const windowMs = r.intOf(r.field(2), at, "windowMs", 1, MAX_INT, true, 1);
  const mode = r.field(3);
  if (mode != NONE && !j.is(mode, "Local") && !j.is(mode, "Global")) {
    r.bad(at + ".mode", "must be Local or Global");
    return null;
  }
  const global = j.is(mode, "Global");
  const batch = r.intOf(r.field(5), at, "batch", 1, 1_000_000, false, 1);
  const failOpen = r.flagOf(r.field(4), at, "failOpen", false);
  // Envoy's ratelimit filter answers a service error with status_on_error, 500 by default.
  const statusOnError = <u32>r.intOf(r.field(6), at, "statusOnError", 200, 599, false, 500);
  if (!r.ok) return null;
  if (!global) {
    if (r.field(5) != NONE || r.field(4) != NONE || r.field(6) != NONE) {
      r.bad(at, "batch, failOpen and statusOnError apply to mode Global only"); return null;
    }
    return new RateLimit(threshold, windowMs);
  }
  const service = input.service;
  if (service === null) {
    r.bad(at + ".mode", "Global needs a top-level rateLimitService (the Envoy cluster of the rate-limit service)");
    return null;
  }
  return new GlobalRateLimit(input.ruleId, threshold, windowMs, batch, failOpen, service, statusOnError);
}
