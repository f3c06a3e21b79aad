// CircuitBreakerStrategy (Sentinel's state machine), shared across all worker VMs.
//
//   CLOSED ──(total >= minRequestAmount and bad/total >= triggerRatio)──▶ OPEN
//   OPEN ──(first request at or after retryAt; one CAS winner)──▶ HALF_OPEN, that request is the probe
//   HALF_OPEN ──probe good──▶ CLOSED (statistics reset)     HALF_OPEN ──probe bad──▶ OPEN (new retryAt)
//   HALF_OPEN ──probe never reached the upstream (rollback)──▶ OPEN (retryAt kept: the next request probes)
//   HALF_OPEN ──probe lost (no outcome by retryAt)──▶ a new probe may pass
//
// Bad: SlowRequestRatio — response time (forwarded → response headers, or → reset) > maxAllowedRtMs;
// ErrorRequestRatio — a status in the error ranges (default 500–599) or a reset before response
// headers (status 0: the stream ended without them, or Envoy's router answered an upstream
// connection failure, reset or timeout itself — see SergoStream.onResponseHeaders).
// Statistics: BUCKETS sliding buckets over statDurationMs, recorded only while CLOSED. Blocked
// requests are never counted. Record layout:
//   u32 state · u32 generation · i64 retryAt · BUCKETS × (i64 bucket number, u32 total, u32 bad)
import { Strategy, Kind, BLOCKED } from "./strategy";
import { updateRecord, readRecord, Update } from "../state/shared";

export const CLOSED: u32 = 0;
export const OPEN: u32 = 1;
export const HALF_OPEN: u32 = 2;

const BUCKETS: i64 = 10;
const HEADER_BYTES: usize = 16;
const SLOT_BYTES: usize = 16;
const RECORD_BYTES: usize = HEADER_BYTES + <usize>BUCKETS * SLOT_BYTES;
const READ: usize = memory.data(<i32>RECORD_BYTES, 8);

/** Tickets: a normal pass or the half-open probe. */
const PASS: i64 = 0;
const PROBE: i64 = 1;

const enum Op { Enter, Revert, Record }

export class CircuitBreaker extends Strategy {
  slowMode: bool;
  bucketMs: i64;
  /** Inclusive [from, to] status ranges that count as errors (ErrorRequestRatio). */
  errorFrom: StaticArray<u32> = [500];
  errorTo: StaticArray<u32> = [599];
  /** The transition made by the current edit, reported once the write succeeded. */
  private transitionFrom: u32 = CLOSED;
  private transitionTo: u32 = CLOSED;
  private transitioned: bool = false;

  private op: Op = Op.Enter;
  private editNow: i64 = 0;
  private editBad: bool = false;
  private editProbe: bool = false;
  private admitted: i64 = BLOCKED;

  /** triggerRatio in millionths, so the comparison is exact integer arithmetic. */
  private ratioMillionths: i64;

  constructor(
    slowMode: bool, public triggerRatio: f64, public statDurationMs: i64, public recoveryTimeoutMs: i64,
    public minRequestAmount: i64, public maxAllowedRtMs: i64,
  ) {
    super(Kind.CircuitBreaker);
    this.slowMode = slowMode;
    this.ratioMillionths = <i64>Math.round(triggerRatio * 1_000_000);
    this.bucketMs = statDurationMs >= BUCKETS ? (statDurationMs + BUCKETS - 1) / BUCKETS : 1;
  }

  signature(): string {
    let s = (this.slowMode ? "slow" : "error") + ",r=" + this.triggerRatio.toString() + ",s=" + this.statDurationMs.toString() +
      ",o=" + this.recoveryTimeoutMs.toString() + ",m=" + this.minRequestAmount.toString();
    if (this.slowMode) s += ",rt=" + this.maxAllowedRtMs.toString();
    else for (let i = 0; i < this.errorFrom.length; i++) s += ",e=" + this.errorFrom[i].toString() + "-" + this.errorTo[i].toString();
    return s;
  }
  recordSize(): usize { return RECORD_BYTES; }

  check(now: i64): i64 {
    this.op = Op.Enter;
    this.editNow = now;
    this.admitted = BLOCKED;
    const update = updateRecord(this.key, RECORD_BYTES, this);
    if (update == Update.Exhausted) return this.decide(update, PASS);
    this.report(update);
    return this.admitted;
  }

  rollback(ticket: i64, now: i64): void {
    if (ticket != PROBE) return;
    this.op = Op.Revert;
    this.editNow = now;
    this.report(updateRecord(this.key, RECORD_BYTES, this, true));
  }

  observe(ticket: i64, status: u32, responseMs: i64, now: i64): void {
    if (ticket < 0) return;
    this.op = Op.Record;
    this.editNow = now;
    this.editProbe = ticket == PROBE;
    this.editBad = this.isBad(status, responseMs);
    this.report(updateRecord(this.key, RECORD_BYTES, this, true));
  }

  private report(update: Update): void {
    const metrics = this.metrics;
    if (update == Update.Written && this.transitioned && metrics !== null) {
      metrics.transition(this.transitionFrom, this.transitionTo);
    }
  }

  isBad(status: u32, responseMs: i64): bool {
    if (this.slowMode) return responseMs > this.maxAllowedRtMs;
    if (status == 0) return true;
    for (let i = 0; i < this.errorFrom.length; i++) {
      if (status >= unchecked(this.errorFrom[i]) && status <= unchecked(this.errorTo[i])) return true;
    }
    return false;
  }

  /** Current state as seen in shared data (for the state gauge and tests). */
  state(): u32 { return readRecord(this.key, RECORD_BYTES, READ) ? load<u32>(READ) : CLOSED; }

  private move(ptr: usize, to: u32): void {
    const from = load<u32>(ptr);
    store<u32>(ptr, to);
    store<u32>(ptr, load<u32>(ptr, 4) + 1, 4);
    this.transitionFrom = from;
    this.transitionTo = to;
    this.transitioned = true;
  }

  apply(ptr: usize): bool {
    this.transitioned = false;
    const state = load<u32>(ptr);
    const now = this.editNow;
    if (this.op == Op.Enter) {
      if (state == CLOSED) { this.admitted = PASS; return false; }
      if (now < load<i64>(ptr, 8)) { this.admitted = BLOCKED; return false; }
      // OPEN past its deadline, or HALF_OPEN whose probe was lost: this request probes.
      if (state == OPEN) this.move(ptr, HALF_OPEN);
      store<i64>(ptr, now + this.recoveryTimeoutMs + this.statDurationMs, 8);
      this.admitted = PROBE;
      return true;
    }
    if (this.op == Op.Revert) {
      if (state != HALF_OPEN) return false;
      this.move(ptr, OPEN);
      store<i64>(ptr, now, 8);
      return true;
    }
    // Op.Record
    if (this.editProbe) {
      if (state != HALF_OPEN) return false;
      if (this.editBad) {
        this.move(ptr, OPEN);
        store<i64>(ptr, now + this.recoveryTimeoutMs, 8);
      } else {
        this.move(ptr, CLOSED);
        memory.fill(ptr + HEADER_BYTES, 0, <usize>BUCKETS * SLOT_BYTES);
      }
      return true;
    }
    if (state != CLOSED) return false;
    const bucket = now / this.bucketMs;
    const slot = ptr + HEADER_BYTES + <usize>(bucket % BUCKETS) * SLOT_BYTES;
    if (load<i64>(slot) != bucket) {
      store<i64>(slot, bucket);
      store<u64>(slot, 0, 8);
    }
    store<u32>(slot, load<u32>(slot, 8) + 1, 8);
    if (this.editBad) store<u32>(slot, load<u32>(slot, 12) + 1, 12);
    let total: i64 = 0;
    let bad: i64 = 0;
    for (let i: i64 = 0; i < BUCKETS; i++) {
      const p = ptr + HEADER_BYTES + <usize>i * SLOT_BYTES;
      const b = load<i64>(p);
      if (b > bucket - BUCKETS && b <= bucket) {
        total += <i64>load<u32>(p, 8);
        bad += <i64>load<u32>(p, 12);
      }
    }
    if (total >= this.minRequestAmount && bad * 1_000_000 >= this.ratioMillionths * total) {
      this.move(ptr, OPEN);
      store<i64>(ptr, now + this.recoveryTimeoutMs, 8);
    }
    return true;
  }
}
