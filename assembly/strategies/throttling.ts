// ThrottlingStrategy (Sentinel pacing): requests pass at most one per `intervalMs`, across all
// worker VMs, and wait for their turn instead of being rejected — as long as the wait is at most
// `queueTimeoutMs`.
//
// State: one record per rule holding the last slot handed out (i64 ms). A check takes the next slot
// max(now, last + interval) under CAS, or blocks if that slot is more than queueTimeout away. The
// ticket is the slot time; the stream pauses until then and is resumed from its VM's tick (the
// worker thread never blocks). Rollback gives the slot back when it is still the last one handed
// out (a later slot cannot be returned without moving everyone behind it).
import { Strategy, Kind, BLOCKED } from "./strategy";
import { updateRecord } from "../state/shared";

const RECORD_BYTES: usize = 8;

export class Throttling extends Strategy {
  private editNow: i64 = 0;
  private editSlot: i64 = 0;
  private editTake: bool = true;

  constructor(public intervalMs: i64, public queueTimeoutMs: i64) { super(Kind.Throttling); }

  signature(): string { return "i=" + this.intervalMs.toString() + ",q=" + this.queueTimeoutMs.toString(); }
  recordSize(): usize { return RECORD_BYTES; }

  check(now: i64): i64 {
    this.editNow = now;
    this.editTake = true;
    const update = updateRecord(this.key, RECORD_BYTES, this);
    return this.decide(update, this.editSlot);
  }

  rollback(ticket: i64, now: i64): void {
    if (ticket < 0) return;
    this.editSlot = ticket;
    this.editTake = false;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  apply(ptr: usize): bool {
    const last = load<i64>(ptr);
    if (!this.editTake) {
      if (last != this.editSlot) return false;
      store<i64>(ptr, last - this.intervalMs);
      return true;
    }
    const now = this.editNow;
    const next = last + this.intervalMs;
    const slot = next > now ? next : now;
    if (slot - now > this.queueTimeoutMs) return false;
    store<i64>(ptr, slot);
    this.editSlot = slot;
    return true;
  }
}
