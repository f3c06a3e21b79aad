// ConcurrencyLimitStrategy (limitMode Local): at most `maxConcurrency` requests in flight across all
// worker VMs. State: one record per rule holding the in-flight count (i64). A check increments it
// under CAS unless it is at the limit; the slot is given back exactly once, by rollback (the
// request never reached the upstream) or by finish (its stream ended) — the stream guarantees that.
import { Strategy, Kind, BLOCKED } from "./strategy";
import { updateRecord, readRecord } from "../state/shared";

const RECORD_BYTES: usize = 8;
const READ: usize = memory.data(8, 8);

export class ConcurrencyLimit extends Strategy {
  private editTake: bool = true;

  constructor(public maxConcurrency: i64) { super(Kind.ConcurrencyLimit); }

  signature(): string { return "c=" + this.maxConcurrency.toString(); }
  recordSize(): usize { return RECORD_BYTES; }

  check(now: i64): i64 {
    if (this.maxConcurrency <= 0) return BLOCKED;
    this.editTake = true;
    return this.decide(updateRecord(this.key, RECORD_BYTES, this), 0);
  }

  rollback(ticket: i64, now: i64): void { this.release(ticket); }
  finish(ticket: i64, now: i64): void { this.release(ticket); }

  private release(ticket: i64): void {
    if (ticket < 0) return;
    this.editTake = false;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  apply(ptr: usize): bool {
    const inFlight = load<i64>(ptr);
    if (this.editTake) {
      if (inFlight >= this.maxConcurrency) return false;
      store<i64>(ptr, inFlight + 1);
      return true;
    }
    if (inFlight <= 0) return false;
    store<i64>(ptr, inFlight - 1);
    return true;
  }

  /** Current in-flight count (for gauges and tests). */
  inFlight(): i64 { return readRecord(this.key, RECORD_BYTES, READ) ? load<i64>(READ) : 0; }
}
