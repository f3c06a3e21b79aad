// ThrottlingStrategy (Sentinel pacing): requests pass at most one per `intervalMs`, across all
// worker VMs, and wait for their turn instead of being rejected — as long as the wait is at most
// `queueTimeoutMs`.
//
// State: one record per rule holding the last slot handed out (i64 ms). A check takes the next slot
// max(now, last + interval) under CAS, or blocks if that slot is more than queueTimeout away. A slot
// in the future makes the request wait until then: the stream pauses and its worker's tick releases
// it at that time (the worker thread never blocks), and the checks after this step run then.
// Reservation: the slot; a refund gives it back when it is still the last one handed out (a
// later slot cannot be returned without moving everyone behind it).
import { Strategy } from "./strategy";
import { KeyWriter } from "./key";
import { CheckResult } from "../chain/result";
import { STEP_PACING } from "../chain/order";
import { StrategyInput, MAX_INT } from "../config/reader";
import { incrementMetric } from "../abi";
import * as names from "../names";

const RECORD_BYTES: usize = 8;

const enum Edit { Take, Refund }

export class Throttling extends Strategy {
  private edit: Edit = Edit.Take;
  private editNow: i64 = 0;
  private editSlot: i64 = 0;
  private queued: u32 = u32.MAX_VALUE;
  private dequeued: u32 = u32.MAX_VALUE;

  constructor(public intervalMs: i64, public queueTimeoutMs: i64) { super(); }

  name(): string { return "Throttling"; }
  step(): i32 { return STEP_PACING; }
  writeSignature(k: KeyWriter): void { k.text("i=").int(this.intervalMs).text(",q=").int(this.queueTimeoutMs); }
  recordSize(): usize { return RECORD_BYTES; }

  defineMetrics(): void {
    this.queued = this.counter(names.REQUESTS_QUEUED);
    this.dequeued = this.counter(names.REQUESTS_DEQUEUED);
  }
  protected adoptOwnMetrics(from: Strategy): bool {
    if (!(from instanceof Throttling)) return false;
    this.queued = changetype<Throttling>(from).queued;
    this.dequeued = changetype<Throttling>(from).dequeued;
    return true;
  }
  paused(): void { this.useMetrics(); incrementMetric(this.queued, 1); }
  resumed(): void { this.useMetrics(); incrementMetric(this.dequeued, 1); }

  take(ptr: usize, now: i64, result: CheckResult): bool {
    this.edit = Edit.Take;
    this.editNow = now;
    if (!this.apply(ptr)) { result.block(); return false; }
    const slot = this.editSlot;
    if (slot > now) result.waitUntil(slot, slot); else result.passWith(slot);
    return true;
  }

  giveBack(ptr: usize, reservation: i64, now: i64): bool {
    this.edit = Edit.Refund;
    this.editSlot = reservation;
    return this.apply(ptr);
  }

  apply(ptr: usize): bool {
    const last = load<i64>(ptr);
    if (this.edit == Edit.Refund) {
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

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const FIELDS: StaticArray<string> = ["kind", "intervalMs", "queueTimeoutMs"];

/** {"kind":"Throttling","intervalMs":I,"queueTimeoutMs":Q} */
export function decodeThrottling(input: StrategyInput): Strategy | null {
  const r = input.reader;
  if (!r.fields(input.spec, input.at, FIELDS)) return null;
  const interval = r.intOf(r.field(1), input.at, "intervalMs", 0, MAX_INT, true, 0);
  const queueTimeout = r.intOf(r.field(2), input.at, "queueTimeoutMs", 1, MAX_INT, true, 1);
  return r.ok ? new Throttling(interval, queueTimeout) : null;
}
