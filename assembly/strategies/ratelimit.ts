// RateLimitStrategy (limitMode Local): at most `threshold` requests admitted in any window of
// `windowMs`, across all worker VMs.
//
// State: one record per rule, a ring of BUCKETS + 1 buckets of width windowMs / BUCKETS, each
// (i64 bucket number, u32 count). A check sums the buckets of the last BUCKETS + 1 bucket numbers —
// every window of `windowMs` lies inside them, so the limit is never exceeded — and, when the sum is
// below the threshold, increments the current bucket under CAS. A full burst is therefore released
// one bucket width after the window (windowMs + windowMs / BUCKETS).
// Rollback decrements the bucket the ticket (its bucket number) was taken from, if still current.
import { Strategy, Kind, BLOCKED } from "./strategy";
import { updateRecord } from "../state/shared";

const BUCKETS: i64 = 10;
const SLOT_BYTES: usize = 12;

export class RateLimit extends Strategy {
  private bucketMs: i64;
  private buckets: i64;
  private slots: i64;
  // Inputs of the current edit (see RecordEdit).
  private editBucket: i64 = 0;
  private editTake: bool = true;

  constructor(public threshold: i64, public windowMs: i64) {
    super(Kind.RateLimit);
    this.bucketMs = windowMs >= BUCKETS ? (windowMs + BUCKETS - 1) / BUCKETS : 1;
    this.buckets = (windowMs + this.bucketMs - 1) / this.bucketMs;
    this.slots = this.buckets + 1;
  }

  signature(): string { return "t=" + this.threshold.toString() + ",w=" + this.windowMs.toString(); }
  recordSize(): usize { return <usize>this.slots * SLOT_BYTES; }

  check(now: i64): i64 {
    if (this.threshold <= 0) return BLOCKED;
    this.editBucket = now / this.bucketMs;
    this.editTake = true;
    return this.decide(updateRecord(this.key, this.recordSize(), this), this.editBucket);
  }

  rollback(ticket: i64, now: i64): void {
    if (ticket < 0) return;
    this.editBucket = ticket;
    this.editTake = false;
    updateRecord(this.key, this.recordSize(), this, true);
  }

  apply(ptr: usize): bool {
    const bucket = this.editBucket;
    const slot = ptr + <usize>(bucket % this.slots) * SLOT_BYTES;
    if (!this.editTake) {
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
