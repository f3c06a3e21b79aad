// RateLimitStrategy with limitMode Global: `threshold` per window for the whole application, counted
// by a rate-limit service (Envoy's reference service or `sergo rls`) that the filter asks over
// proxy_http_call in the service's HTTP/JSON form (POST /json, a RateLimitRequest; 200 = OK,
// 429 = OVER_LIMIT, anything else or no answer within timeoutMs = an error).
//
// Its check says Ask; the chain asks once every local check has passed (chain/order.ts), and the
// request waits, paused, for the answer. On an error the rule's fail policy applies (`failOpen`,
// default false: blocked), and every error is counted. The calls are this strategy's, made and
// answered on one worker VM (the ABI layer delivers each answer here, ../abi/callouts.ts), so an
// answer still counts after the request that needed it has gone.
//
// Batching (`batch` N > 1): a call asks for N hits at once; the first request waiting on the call
// takes one, and the rest are kept in a shared record (window number, tokens) and spent by later
// requests of any worker without a call. Each worker has at most one refill call in flight per
// rule (`refillToken`): requests that find the batch empty meanwhile wait for that refill instead of
// calling. A request whose token leaves fewer than N / 2 starts the next refill in the background,
// so under steady traffic requests find tokens and never wait for the service.
//
// The bound (stated here; docs/semantics.md repeats it): tokens expire with the window they were
// reserved in, so the proxies never admit more than the service granted, `threshold` per window.
// What can go wrong: tokens reserved but unspent when a window ends — fewer than N / 2 + W × N per
// proxy with W worker threads (under-admission) — or spent just after the service's window rolled
// (an overshoot of at most that much per window boundary, from clock skew between proxy and service).
import { Strategy, Waiter } from "./strategy";
import { KeyWriter } from "./key";
import { CheckResult } from "../chain/result";
import { STEP_RATE_LIMIT } from "../chain/order";
import { updateRecord, ensureRecord, Update } from "../state/shared";
import { RateLimitService } from "../config/service";
import { STATUS, parseStatus } from "../http";
import {
  CallReceiver, httpCall, getHeader, MapType, Status, hostPtr, hostSize, nowMs, MetricType, defineMetricAfter, incrementMetric,
} from "../abi";
import * as names from "../names";

/** What a call came back with. */
const enum Answer { Ok, OverLimit, Error }

const enum Edit { Take, Deposit, Refund }

const RECORD_BYTES: usize = 16;

function unitFor(windowMs: i64): string {
  if (windowMs == 1000) return "SECOND";
  if (windowMs == 60_000) return "MINUTE";
  if (windowMs == 3_600_000) return "HOUR";
  if (windowMs == 86_400_000) return "DAY";
  return "";
}

function jsonString(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c == "\"" || c == "\\") out += "\\";
    out += c;
  }
  return out + "\"";
}

/** The RateLimitRequest of one call: precomputed, it never changes. */
function requestBody(ruleId: string, threshold: i64, windowMs: i64, batch: i64, domain: string): ArrayBuffer {
  const unit = unitFor(windowMs);
  let entries = "{\"key\":\"sergo_rule\",\"value\":" + jsonString(ruleId) + "}";
  if (unit.length == 0) entries += ",{\"key\":\"sergo_window_ms\",\"value\":\"" + windowMs.toString() + "\"}";
  const limit = "{\"requests_per_unit\":" + threshold.toString() + ",\"unit\":\"" + (unit.length > 0 ? unit : "SECOND") + "\"}";
  return String.UTF8.encode("{\"domain\":" + jsonString(domain) + ",\"descriptors\":[{\"entries\":[" +
    entries + "],\"limit\":" + limit + "}],\"hits_addend\":" + batch.toString() + "}");
}

/** Receives the answers to one rule's calls on this worker and hands them to the rule. */
class ServiceCalls extends CallReceiver {
  constructor(private rule: GlobalRateLimit) { super(); }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
    let answer = Answer.Error;
    if (headerCount > 0 && getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, STATUS) == Status.OK) {
      const status = parseStatus(hostPtr(), hostSize());
      if (status == 200) answer = Answer.Ok;
      else if (status == 429) answer = Answer.OverLimit;
    }
    this.rule.receive(token, answer, nowMs());
  }
}

export class GlobalRateLimit extends Strategy {
  private body: ArrayBuffer;
  private calls!: ServiceCalls;
  /** Batching: the call refilling this worker's batch, 0 when none is in flight. */
  private refillToken: u32 = 0;
  /** Tokens left in the batch after the last successful take (any worker's). */
  private leftAfterTake: i64 = 0;
  /** The window in which the service last refused a call: no background refill until it is over. */
  private refusedWindow: i64 = -1;
  /** Requests of this worker waiting for an answer: the token of the call each waits for. */
  private waitingFor: u32[] = [];
  private waiters: Waiter[] = [];
  private woken: Waiter[] = [];
  // Metrics.
  private rlsOk: u32 = u32.MAX_VALUE;
  private rlsOverLimit: u32 = u32.MAX_VALUE;
  private rlsErrors: u32 = u32.MAX_VALUE;
  private rlsFailedOpen: u32 = u32.MAX_VALUE;
  // Inputs of the current edit (see RecordEdit).
  private edit: Edit = Edit.Take;
  private editWindow: i64 = 0;
  private depositAll: bool = false;

  constructor(ruleId: string, public threshold: i64, public windowMs: i64, public batch: i64,
              public failOpen: bool, public service: RateLimitService, public errorStatus: u32 = 500) {
    super();
    this.body = requestBody(ruleId, threshold, windowMs, batch, service.domain);
    this.calls = new ServiceCalls(this);
  }

  name(): string { return "RateLimit"; }
  step(): i32 { return STEP_RATE_LIMIT; }
  statusOnError(): u32 { return this.errorStatus; }

  writeSignature(k: KeyWriter): void {
    k.text("global,t=").int(this.threshold).text(",w=").int(this.windowMs).text(",b=").int(this.batch);
  }
  recordSize(): usize { return this.batch > 1 ? RECORD_BYTES : 0; }
  prepareAtConfigure(): void { if (this.batch > 1) ensureRecord(this.key, RECORD_BYTES); }
  /** Its batch record is its own: taken and refilled outside the chain's transaction (answers). */
  packed(): bool { return false; }

  defineMetrics(): void {
    const tags = this.writeTags();
    this.rlsOk = defineMetricAfter(MetricType.COUNTER, tags, names.RLS_OK);
    this.rlsOverLimit = defineMetricAfter(MetricType.COUNTER, tags, names.RLS_OVER_LIMIT);
    this.rlsErrors = defineMetricAfter(MetricType.COUNTER, tags, names.RLS_ERRORS);
    this.rlsFailedOpen = defineMetricAfter(MetricType.COUNTER, tags, names.RLS_FAILED_OPEN);
  }

  protected adoptOwnMetrics(from: Strategy): bool {
    if (!(from instanceof GlobalRateLimit)) return false;
    const g = changetype<GlobalRateLimit>(from);
    this.rlsOk = g.rlsOk;
    this.rlsOverLimit = g.rlsOverLimit;
    this.rlsErrors = g.rlsErrors;
    this.rlsFailedOpen = g.rlsFailedOpen;
    return true;
  }

  /** A token from the local batch when there is one, else Ask. */
  check(now: i64, result: CheckResult): void {
    if (this.threshold <= 0) { result.block(); return; }
    if (this.batch > 1 && this.takeToken(now)) {
      result.passWith(this.editWindow);
      this.prefetchIfLow(now);
    } else {
      result.ask();
    }
  }

  /** Hits counted by the service cannot be refunded; a token from the batch can, within its window. */
  withdraw(reservation: i64, now: i64): void {
    this.edit = Edit.Refund;
    this.editWindow = reservation;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  /** Asks the service for `waiter` — or, when this worker is already refilling the batch, waits for
   *  that refill instead of making a call of its own (single flight per worker). */
  ask(waiter: Waiter, now: i64): void {
    if (this.batch > 1 && this.refillToken != 0) { this.waitOn(this.refillToken, waiter); return; }
    const token = this.call();
    if (token == 0) { this.resolve(waiter, Answer.Error, now); return; }   // refused by the host (e.g. no such cluster)
    if (this.batch > 1) this.refillToken = token;
    this.waitOn(token, waiter);
  }

  forget(waiter: Waiter): void {
    let kept = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const w = unchecked(this.waiters[i]);
      if (w === waiter) continue;
      unchecked(this.waitingFor[kept] = this.waitingFor[i]);
      unchecked(this.waiters[kept] = w);
      kept++;
    }
    this.waitingFor.length = kept;
    this.waiters.length = kept;
  }

  /** An answer to call `token` (from ServiceCalls): refill the batch, then tell who waited on it. */
  receive(token: u32, answer: Answer, now: i64): void {
    if (this.refillToken == token) this.refillToken = 0;
    this.count(answer);
    const woken = this.takeWaiters(token);
    if (answer == Answer.Ok && this.batch > 1) this.deposit(now, woken.length == 0);
    if (answer == Answer.OverLimit) this.refusedWindow = now / this.windowMs;
    for (let i = 0; i < woken.length; i++) {
      const waiter = unchecked(woken[i]);
      // The first waiter gets the call's own answer; in a batch, the others take from the refill.
      if (i == 0 || answer != Answer.Ok) this.resolve(waiter, answer, now);
      else this.retake(waiter, now);
    }
  }

  /** Sends the call; returns its token (0: the host refused it, counted as an error). */
  private call(): u32 {
    const s = this.service;
    const token = httpCall(this.calls, s.clusterBytes, s.headers, this.body, s.timeoutMs);
    if (token == 0) this.count(Answer.Error);
    return token;
  }

  private waitOn(token: u32, waiter: Waiter): void {
    this.waitingFor.push(token);
    this.waiters.push(waiter);
  }

  /** The waiters of `token`, taken out first: waking one may add it back, for the next refill. */
  private takeWaiters(token: u32): Waiter[] {
    const woken = this.woken;
    woken.length = 0;
    let kept = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const t = unchecked(this.waitingFor[i]);
      const w = unchecked(this.waiters[i]);
      if (t == token) woken.push(w);
      else { unchecked(this.waitingFor[kept] = t); unchecked(this.waiters[kept] = w); kept++; }
    }
    this.waitingFor.length = kept;
    this.waiters.length = kept;
    return woken;
  }

  /** The request gets this answer (admitted by the service: nothing to refund). */
  private resolve(waiter: Waiter, answer: Answer, now: i64): void {
    const result = waiter.result;
    if (answer == Answer.Ok) result.pass();
    else if (answer == Answer.Error && this.failOpen) {
      this.useMetrics();
      incrementMetric(this.rlsFailedOpen, 1);
      result.pass();
    } else if (answer == Answer.Error) {
      result.blockOnServiceError();
    } else {
      result.block();
    }
    waiter.answered(this, now);
  }

  /** A refill this request waited on arrived: take a token from it, or ask again (a call, or the
   *  next refill) when the batch is already spent. */
  private retake(waiter: Waiter, now: i64): void {
    if (!this.takeToken(now)) { this.ask(waiter, now); return; }
    waiter.result.passWith(this.editWindow);
    this.prefetchIfLow(now);
    waiter.answered(this, now);
  }

  /** After a token was taken: refill in the background when fewer than N / 2 are left. */
  private prefetchIfLow(now: i64): void {
    if (this.refillToken != 0 || this.leftAfterTake >= this.batch / 2 || this.refusedWindow == now / this.windowMs) return;
    this.refillToken = this.call();
  }

  private takeToken(now: i64): bool {
    this.edit = Edit.Take;
    this.editWindow = now / this.windowMs;
    return updateRecord(this.key, RECORD_BYTES, this) == Update.Written;
  }

  /** The service granted a batch: keep the N − 1 hits the first waiter did not use (all N when
   *  nobody waits any more). */
  private deposit(now: i64, all: bool): void {
    this.edit = Edit.Deposit;
    this.editWindow = now / this.windowMs;
    this.depositAll = all;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  private count(answer: Answer): void {
    this.useMetrics();
    incrementMetric(answer == Answer.Ok ? this.rlsOk : answer == Answer.OverLimit ? this.rlsOverLimit : this.rlsErrors, 1);
  }

  apply(ptr: usize): bool {
    const window = load<i64>(ptr);
    const tokens = load<i64>(ptr, 8);
    if (this.edit == Edit.Take) {
      if (window != this.editWindow || tokens <= 0) return false;
      store<i64>(ptr, tokens - 1, 8);
      this.leftAfterTake = tokens - 1;
      return true;
    }
    if (this.edit == Edit.Refund) {
      if (window != this.editWindow) return false;   // the token's window is over: it expired
      store<i64>(ptr, tokens + 1, 8);
      return true;
    }
    // Deposit: tokens of an older window expire; the new batch replaces them.
    const granted = this.depositAll ? this.batch : this.batch - 1;
    if (window != this.editWindow) {
      store<i64>(ptr, this.editWindow);
      store<i64>(ptr, granted, 8);
    } else {
      store<i64>(ptr, tokens + granted, 8);
    }
    return true;
  }
}
