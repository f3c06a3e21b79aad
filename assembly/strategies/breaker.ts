// CircuitBreakerStrategy (Sentinel's state machine), shared across all worker VMs.
//
//   CLOSED ──closedToOpen: total >= minRequestAmount and bad/total >= triggerRatio──▶ OPEN
//   OPEN ──openToHalfOpen: the first request at or after retryAt (one CAS winner) is the probe──▶ HALF_OPEN
//   HALF_OPEN ──halfOpenToClosed: the probe was good (statistics reset)──▶ CLOSED
//   HALF_OPEN ──halfOpenToOpen: the probe was bad (retryAt = now + recoveryTimeout)──▶ OPEN
//   HALF_OPEN ──halfOpenToOpen: the probe ended without an outcome — a later check refused it, or
//              its client left before the response (retryAt = now: the next request probes)──▶ OPEN
//   HALF_OPEN ──replaceLostProbe: no outcome PROBE_LOST_MS after the probe started──▶ HALF_OPEN, a new probe
//
// One probe at a time: while it is in flight every other request is blocked, however long it takes.
// A probe is over when its stream ends, in any way. Only a probe whose stream can no longer end —
// its worker's VM failed (a trap) or was replaced — is ever replaced, after PROBE_LOST_MS. Probes
// carry the record's generation, so an outcome that arrives after its probe was replaced is ignored.
//
// Bad: SlowRequestRatio — response time (forwarded → response headers) > maxAllowedRtMs; a client
// that left after waiting longer than that counts as slow too (the response was at least that slow).
// ErrorRequestRatio — a status in the error ranges (default 500–599), or Envoy's router answering
// for a failed upstream (connection failure, reset, timeout: see http.ts upstreamFailed) whatever the
// ranges say. A client that leaves before the response is no outcome at all (Sentinel's HTTP
// adapters do not record it either): it is not counted.
// Statistics: BUCKETS sliding buckets over statDurationMs, recorded only while CLOSED. Blocked
// requests are never counted. Record layout:
//   u32 state · u32 generation · i64 deadline (OPEN: retryAt, HALF_OPEN: probe lost) ·
//   BUCKETS × (i64 bucket number, u32 total, u32 bad)
import { Strategy } from "./strategy";
import { NO_SECTION } from "../state/packed";
import { KeyWriter } from "./key";
import { CheckResult } from "../chain/result";
import { STEP_BREAKER } from "../chain/order";
import { Outcome, GRPC_UNAVAILABLE } from "../http";
import { Json, JsonValue, JsonKind, NONE } from "../config/json";
import { StrategyInput, MAX_INT } from "../config/reader";
import { MetricType, defineMetricAfter, incrementMetric, recordMetric } from "../abi";
import * as names from "../names";

export const CLOSED: u32 = 0;
export const OPEN: u32 = 1;
export const HALF_OPEN: u32 = 2;

/**
 * How long a probe may go without an outcome before another may replace it: no shorter than the
 * longest a request can wait for its response headers in Envoy — its route timeout (15 s by default,
 * `sergo translate --upstream-timeout`), and for a route without one the stream idle timeout (5 min
 * by default), after which Envoy ends the stream itself. A probe of a live VM is over by then.
 */
export const PROBE_LOST_MS: i64 = 300_000;

const BUCKETS: i64 = 10;
const HEADER_BYTES: usize = 16;
const SLOT_BYTES: usize = 16;
const RECORD_BYTES: usize = HEADER_BYTES + <usize>BUCKETS * SLOT_BYTES;

/** Reservations: 0 for a request passed while closed; PROBE | generation for the probe. */
const PROBE: i64 = 1 << 40;

const DEFAULT_ERROR_FROM: StaticArray<u32> = [500];
const DEFAULT_ERROR_TO: StaticArray<u32> = [599];

const enum Edit { Enter, Withdraw, Record }
const enum Judgement { Good, Bad, None }

export class CircuitBreaker extends Strategy {
  slowMode: bool;
  bucketMs: i64;
  /** Inclusive [from, to] status ranges that count as errors (ErrorRequestRatio); the default ranges
   *  are shared (replaced, never written). */
  errorFrom: StaticArray<u32> = DEFAULT_ERROR_FROM;
  errorTo: StaticArray<u32> = DEFAULT_ERROR_TO;
  /** triggerRatio in millionths, so the comparison is exact integer arithmetic. */
  private ratioMillionths: i64;

  // Inputs of the current edit (see RecordEdit), and what it did.
  private edit: Edit = Edit.Enter;
  private editNow: i64 = 0;
  private editBad: bool = false;
  private editProbe: i64 = 0;
  private admitted: i64 = -1;
  private movedFrom: u32 = CLOSED;
  private movedTo: u32 = CLOSED;
  private moved: bool = false;

  // Metrics: the state gauge and the transition counters indexed from * 3 + to.
  private stateGauge: u32 = u32.MAX_VALUE;
  private transitions: StaticArray<u32> = new StaticArray<u32>(9);

  constructor(
    slowMode: bool, public triggerRatio: f64, public statDurationMs: i64, public recoveryTimeoutMs: i64,
    public minRequestAmount: i64, public maxAllowedRtMs: i64,
  ) {
    super();
    this.slowMode = slowMode;
    this.ratioMillionths = <i64>Math.round(triggerRatio * 1_000_000);
    this.bucketMs = statDurationMs >= BUCKETS ? (statDurationMs + BUCKETS - 1) / BUCKETS : 1;
  }

  name(): string { return "CircuitBreaker"; }
  step(): i32 { return STEP_BREAKER; }
  recordSize(): usize { return RECORD_BYTES; }
  defaultGrpcStatus(): i32 { return GRPC_UNAVAILABLE; }   // the service is not being called: retry later
  watchesResponse(): bool { return true; }

  writeSignature(k: KeyWriter): void {
    k.text(this.slowMode ? "slow" : "error").text(",r=").int(this.ratioMillionths).text("e-6,s=").int(this.statDurationMs)
      .text(",o=").int(this.recoveryTimeoutMs).text(",m=").int(this.minRequestAmount);
    if (this.slowMode) k.text(",rt=").int(this.maxAllowedRtMs);
    else for (let i = 0; i < this.errorFrom.length; i++) k.text(",e=").int(this.errorFrom[i]).text("-").int(this.errorTo[i]);
  }

  /** The state gauge and the transition counters exist from the start: closed (0), none yet. */
  prepareAtConfigure(): void { this.defineOwnMetrics(); }

  defineMetrics(): void {
    const tags = this.writeTags();   // written once for the 5 names
    this.stateGauge = defineMetricAfter(MetricType.GAUGE, tags, names.BREAKER_STATE);
    const transitionTags = transitionTagsOnce();
    for (let i = 0; i < 9; i++) {
      const tagged = unchecked(transitionTags[i]);
      this.transitions[i] = tagged.length == 0 ? u32.MAX_VALUE : defineMetricAfter(MetricType.COUNTER, tags, tagged, names.BREAKER_TRANSITIONS);
    }
  }

  /** The state gauge is one process-wide stat that transitions set: a breaker new to this VM (new
   *  parameters start a new state, closed) sets it from its section, or the gauge would show the
   *  state of the breaker it replaced until its first transition. */
  publishesState(): bool { return true; }
  publishState(section: usize): void {
    if (section != NO_SECTION) recordMetric(this.stateGauge, <u64>load<u32>(section));
  }

  protected adoptOwnMetrics(from: Strategy): bool {
    if (!(from instanceof CircuitBreaker)) return false;
    const breaker = changetype<CircuitBreaker>(from);
    this.stateGauge = breaker.stateGauge;
    this.transitions = breaker.transitions;   // written once, by defineMetrics: shared
    return true;
  }

  take(ptr: usize, now: i64, result: CheckResult): bool {
    this.edit = Edit.Enter;
    this.editNow = now;
    const changed = this.apply(ptr);
    if (this.admitted < 0) result.block(); else result.passWith(this.admitted);
    return changed;
  }

  endsWithStream(): bool { return true; }

  giveBack(ptr: usize, reservation: i64, now: i64): bool {
    if ((reservation & PROBE) == 0) { this.moved = false; return false; }
    return this.change(ptr, Edit.Withdraw, reservation, false, now);
  }

  ended(ptr: usize, reservation: i64, outcome: Outcome, status: u32, elapsedMs: i64, now: i64): bool {
    const judgement = this.judge(outcome, status, elapsedMs);
    if (judgement == Judgement.None) return this.giveBack(ptr, reservation, now);
    return this.change(ptr, Edit.Record, reservation, judgement == Judgement.Bad, now);
  }

  private judge(outcome: Outcome, status: u32, elapsedMs: i64): Judgement {
    if (this.slowMode) {
      if (elapsedMs > this.maxAllowedRtMs) return Judgement.Bad;
      return outcome == Outcome.NoResponse ? Judgement.None : Judgement.Good;
    }
    if (outcome == Outcome.NoResponse) return Judgement.None;
    if (outcome == Outcome.UpstreamFailed) return Judgement.Bad;
    for (let i = 0; i < this.errorFrom.length; i++) {
      if (status >= unchecked(this.errorFrom[i]) && status <= unchecked(this.errorTo[i])) return Judgement.Bad;
    }
    return Judgement.Good;
  }

  private change(ptr: usize, edit: Edit, reservation: i64, bad: bool, now: i64): bool {
    this.edit = edit;
    this.editProbe = reservation;
    this.editBad = bad;
    this.editNow = now;
    return this.apply(ptr);
  }

  /** The last edit was written: a transition it made is counted now. */
  committed(): void {
    if (!this.moved) return;
    this.moved = false;
    this.useMetrics();
    incrementMetric(this.transitions[<i32>(this.movedFrom * 3 + this.movedTo)], 1);
    recordMetric(this.stateGauge, <u64>this.movedTo);
  }

  apply(ptr: usize): bool {
    this.moved = false;
    if (this.edit == Edit.Enter) return this.enter(ptr);
    if (!this.isCurrentProbe(ptr)) return this.edit == Edit.Record && this.editProbe == 0 && this.count(ptr);
    if (this.edit == Edit.Withdraw || this.editBad) {
      this.halfOpenToOpen(ptr, this.edit == Edit.Withdraw ? this.editNow : this.editNow + this.recoveryTimeoutMs);
    } else {
      this.halfOpenToClosed(ptr);
    }
    return true;
  }

  /** A request arrives: pass while closed; past the deadline it becomes the probe; else block. */
  private enter(ptr: usize): bool {
    this.admitted = -1;   // (a CAS retry runs this again)
    const state = load<u32>(ptr);
    if (state == CLOSED) { this.admitted = 0; return false; }
    if (this.editNow < load<i64>(ptr, 8)) return false;
    if (state == OPEN) this.openToHalfOpen(ptr); else this.replaceLostProbe(ptr);
    this.admitted = PROBE | <i64>load<u32>(ptr, 4);
    return true;
  }

  /** Whether this edit's reservation is the probe the record is waiting for. */
  private isCurrentProbe(ptr: usize): bool {
    return (this.editProbe & PROBE) != 0 && load<u32>(ptr) == HALF_OPEN &&
      <u32>(this.editProbe & 0xffffffff) == load<u32>(ptr, 4);
  }

  /** Records one outcome while closed; trips when the window says so. */
  private count(ptr: usize): bool {
    if (load<u32>(ptr) != CLOSED) return false;
    const now = this.editNow;
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
    if (total >= this.minRequestAmount && bad * 1_000_000 >= this.ratioMillionths * total) this.closedToOpen(ptr);
    return true;
  }

  private closedToOpen(ptr: usize): void {
    this.move(ptr, OPEN);
    store<i64>(ptr, this.editNow + this.recoveryTimeoutMs, 8);
  }

  private openToHalfOpen(ptr: usize): void {
    this.move(ptr, HALF_OPEN);
    store<i64>(ptr, this.editNow + PROBE_LOST_MS, 8);
  }

  /** The probe's stream can no longer end (its VM is gone): a new probe, a new generation. */
  private replaceLostProbe(ptr: usize): void {
    store<u32>(ptr, load<u32>(ptr, 4) + 1, 4);
    store<i64>(ptr, this.editNow + PROBE_LOST_MS, 8);
  }

  private halfOpenToOpen(ptr: usize, retryAt: i64): void {
    this.move(ptr, OPEN);
    store<i64>(ptr, retryAt, 8);
  }

  private halfOpenToClosed(ptr: usize): void {
    this.move(ptr, CLOSED);
    memory.fill(ptr + HEADER_BYTES, 0, <usize>BUCKETS * SLOT_BYTES);
  }

  /** Sets the state and a new generation; the transition is counted once the write succeeded. */
  private move(ptr: usize, to: u32): void {
    this.movedFrom = load<u32>(ptr);
    this.movedTo = to;
    this.moved = true;
    store<u32>(ptr, to);
    store<u32>(ptr, load<u32>(ptr, 4) + 1, 4);
  }
}

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const FIELDS: StaticArray<string> = ["kind", "mode", "triggerRatio", "statDurationMs", "recoveryTimeoutMs", "minRequestAmount",
  "maxAllowedRtMs", "errorStatus"];

/** {"kind":"CircuitBreaker","mode":"SlowRequestRatio"|"ErrorRequestRatio","triggerRatio":R,"statDurationMs":S,
 *  "recoveryTimeoutMs":T,"minRequestAmount":M,"maxAllowedRtMs":X,"errorStatus":[[500,599]]} */
export function decodeCircuitBreaker(input: StrategyInput): Strategy | null {
  const s = input.spec;
  const at = input.at;
  const r = input.reader;
  const j = input.json;
  if (!r.fields(s, at, FIELDS)) return null;
  const mode = r.field(1);
  const slow = j.is(mode, "SlowRequestRatio");
  if (!slow && !j.is(mode, "ErrorRequestRatio")) {
    r.bad(at + ".mode", "must be SlowRequestRatio or ErrorRequestRatio");
    return null;
  }
  const ratio = r.field(2);
  const ratioValue = j.kind(ratio) == JsonKind.Number ? j.num(ratio) : NaN;
  if (!(ratioValue >= 0 && ratioValue <= 1)) {
    r.bad(at + ".triggerRatio", "must be a number from 0 to 1");
    return null;
  }
  const stat = r.intOf(r.field(3), at, "statDurationMs", 1, MAX_INT, true, 1);
  const recovery = r.intOf(r.field(4), at, "recoveryTimeoutMs", 1, MAX_INT, true, 1);
  const min = r.intOf(r.field(5), at, "minRequestAmount", 1, MAX_INT, true, 1);
  const maxRt = r.intOf(r.field(6), at, "maxAllowedRtMs", 0, MAX_INT, slow, 0);
  if (!r.ok) return null;
  const breaker = new CircuitBreaker(slow, ratioValue, stat, recovery, min, maxRt);
  const ranges = r.field(7);
  if (ranges == NONE) return breaker;
  if (slow) { r.bad(at + ".errorStatus", "applies to ErrorRequestRatio only"); return null; }
  return decodeErrorStatus(ranges, breaker, input) ? breaker : null;
}

/** `errorStatus` (at `ranges`): its places are written only into an error, from strings the module
 *  has anyway. */
function decodeErrorStatus(ranges: JsonValue, breaker: CircuitBreaker, input: StrategyInput): bool {
  const j = input.json;
  const n = j.kind(ranges) == JsonKind.Array ? j.size(ranges) : 0;
  if (n == 0 || n > 64) return input.reader.bad(input.at + ".errorStatus", "must be a list of 1 to 64 [from, to] ranges");
  breaker.errorFrom = new StaticArray<u32>(n);
  breaker.errorTo = new StaticArray<u32>(n);
  let range = j.first(ranges);
  for (let i = 0; i < n; i++) {
    const pair = j.kind(range) == JsonKind.Array && j.size(range) == 2;
    const from = pair ? j.first(range) : NONE;
    const to = pair ? j.next(from) : NONE;
    if (!isStatus(j, from) || !isStatus(j, to) || j.num(from) > j.num(to)) {
      return input.reader.bad(input.at + ".errorStatus" + "[" + i.toString() + "]", "must be [from, to] with 100 <= from <= to <= 599");
    }
    breaker.errorFrom[i] = <u32>j.num(from);
    breaker.errorTo[i] = <u32>j.num(to);
    range = j.next(range);
  }
  return true;
}

function isStatus(j: Json, v: JsonValue): bool {
  if (j.kind(v) != JsonKind.Number) return false;
  const n = j.num(v);
  return n == Math.floor(n) && n >= 100 && n <= 599;
}

/** The from/to tags of each transition the state machine has (from * 3 + to; "" for the others:
 *  no counter that could never move), encoded once for all breakers rather than per rule. */
let transitionTags: string[] | null = null;
function transitionTagsOnce(): string[] {
  if (transitionTags !== null) return transitionTags!;
  const states = names.BREAKER_STATES;
  const tags: string[] = [];
  for (let from: u32 = 0; from < 3; from++) {
    for (let to: u32 = 0; to < 3; to++) {
      tags.push(transitionExists(from, to) ? names.encodeTag(names.TAG_FROM, states[from]) + names.encodeTag(names.TAG_TO, states[to]) : "");
    }
  }
  transitionTags = tags;
  return tags;
}

/** The four transitions of the diagram at the top: closed → open → half-open → closed or open. */
function transitionExists(from: u32, to: u32): bool {
  return (from == CLOSED && to == OPEN) || (from == OPEN && to == HALF_OPEN) || (from == HALF_OPEN && to != HALF_OPEN);
}
