// The stream context of the sergo filter: the check chain of one request and the bookkeeping that
// gives every reservation back exactly once.
//
// A stream moves IDLE → (blocked: ENDED) | CALLING (asking the rate-limit service, Global rules) →
// QUEUED (waiting for a pacing slot) → FORWARDED → ENDED; CALLING and QUEUED are skipped when not
// needed. Whatever a stream took is returned in `end()`, which runs on the first of on_log, on_done
// and on_delete: CALLING and QUEUED streams roll everything back (they never reached the upstream),
// FORWARDED ones record their outcome (breakers) and release what they hold (concurrency).
import {
  StreamContext, Action, MapType, Status, Bytes, bytesEqual,
  nowMs, hostPtr, hostSize, getHeader, getProperty, setEffectiveContext, continueRequest, incrementMetric,
} from "./abi";
import { Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Kind, KIND_COUNT, BLOCKED, casExhaustedCount } from "./strategies/strategy";
import { GlobalRateLimit, NEEDS_CALL, GRANTED } from "./strategies/global-ratelimit";
import { SergoRoot } from "./root";

const PATH = new Bytes(":path");
const METHOD = new Bytes(":method");
export const STATUS = new Bytes(":status");
const CODE_DETAILS = new Bytes("response\0code_details");

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const FORWARDED: u8 = 2;
const ENDED: u8 = 3;
const CALLING: u8 = 4;

/** Answers of the rate-limit service. */
export const RLS_OK: u8 = 0;
export const RLS_OVER_LIMIT: u8 = 1;
export const RLS_ERROR: u8 = 2;

export class SergoStream extends StreamContext {
  phase: u8 = IDLE;
  wakeAt: i64 = 0;
  forwardedAt: i64 = 0;
  observed: bool = false;
  hasBreaker: bool = false;
  /** Reservations taken: rules[i] admitted this request with tickets[i]. */
  rules: Rule[] = [];
  tickets: i64[] = [];
  /** Rate-limit service: Global rules to ask, answers still awaited, and the first refusal. */
  toCall: Rule[] = [];
  pendingAnswers: i32 = 0;
  refusedBy: Rule | null = null;

  constructor(public root: SergoRoot) { super(); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 {
    this.phase = IDLE;
    this.observed = false;
    this.hasBreaker = false;
    this.rules.length = 0;
    this.tickets.length = 0;
    this.toCall.length = 0;
    this.refusedBy = null;
    const active = this.root.active;
    if (active === null || active.resources.length == 0) return Action.CONTINUE;
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) != Status.OK) return Action.CONTINUE;
    const pathPtr = hostPtr();
    let pathLen = hostSize();
    for (let i: usize = 0; i < pathLen; i++) {
      if (load<u8>(pathPtr + i) == 0x3f) { pathLen = i; break; }   // strip "?query"
    }
    const matched = this.root.matched;
    matched.length = 0;
    active.matcher.match(pathPtr, pathLen, matched);
    if (matched.length == 0) return Action.CONTINUE;
    if (!filterByMethod(matched)) return Action.CONTINUE;

    const now = nowMs();
    let wake = now;
    this.wakeAt = now;
    for (let kind = 0; kind < KIND_COUNT; kind++) {
      for (let r = 0; r < matched.length; r++) {
        const rules = unchecked(unchecked(matched[r]).rulesByKind[kind]);
        for (let i = 0; i < rules.length; i++) {
          const rule = unchecked(rules[i]);
          const ticket = rule.strategy.check(now);
          if (casExhaustedCount != this.root.reportedCasExhausted) this.root.reportCasExhausted();
          if (ticket == BLOCKED) return this.block(rule, now);
          if (ticket == NEEDS_CALL) {
            this.toCall.push(rule);
            continue;
          }
          if (rule.strategy.remote) this.root.maybePrefetch(rule, now);
          this.rules.push(rule);
          this.tickets.push(ticket);
          if (kind == Kind.CircuitBreaker) this.hasBreaker = true;
          if (kind == Kind.Throttling && ticket > wake) {
            if (this.root.queue.length >= active.maxQueued) {
              const m = this.root.filterMetrics;
              if (m !== null) m.inc(m.queueOverflow);
              return this.block(rule, now);
            }
            wake = ticket;
          }
        }
      }
    }
    this.wakeAt = wake;
    if (this.toCall.length > 0) return this.callService(now);
    return this.admit(now);
  }

  /** Every check passed: wait for the pacing slot if there is one, else go upstream. */
  private admit(now: i64): u32 {
    for (let i = 0; i < this.rules.length; i++) {
      incrementMetric(unchecked(this.rules[i]).strategy.metrics!.passed, 1);
    }
    if (this.wakeAt > now) {
      this.phase = QUEUED;
      this.root.enqueue(this);
      this.countThrottling(true);
      return Action.PAUSE;
    }
    this.phase = FORWARDED;
    this.forwardedAt = now;
    return Action.CONTINUE;
  }

  /** The local checks passed; ask the rate-limit service for each Global rule, in parallel. */
  private callService(now: i64): u32 {
    this.phase = CALLING;
    this.pendingAnswers = 0;
    const toCall = this.toCall;
    for (let i = 0; i < toCall.length; i++) this.ask(unchecked(toCall[i]), now);
    if (this.pendingAnswers > 0) return Action.PAUSE;
    return this.decide(now);
  }

  /** Asks the service about one rule — or, when this worker is already refilling that rule's batch,
   *  waits for that refill instead of making a call of its own (single flight per worker). */
  private ask(rule: Rule, now: i64): void {
    const strategy = rule.strategy as GlobalRateLimit;
    if (strategy.refillToken != 0) {
      this.root.addWaiter(strategy.refillToken, this);
      this.pendingAnswers++;
      return;
    }
    const token = strategy.call();
    if (token == 0) {
      this.note(rule, RLS_ERROR, true);   // refused by the host (e.g. no such cluster)
      return;
    }
    if (strategy.batch > 1) strategy.refillToken = token;
    this.root.callStreams.set(token, this);
    this.root.callRules.set(token, rule);
    this.pendingAnswers++;
  }

  /** Records one answer for a rule; the first refusal decides the fallback. `counted`: the answer
   *  came from a call of this stream's own (metrics count calls, not the requests waiting on one). */
  private note(rule: Rule, answer: u8, counted: bool): void {
    const strategy = rule.strategy as GlobalRateLimit;
    const m = strategy.metrics!;
    if (answer == RLS_OK) {
      if (counted) incrementMetric(m.rlsOk, 1);
      this.rules.push(rule);
      this.tickets.push(GRANTED);
      return;
    }
    if (answer == RLS_OVER_LIMIT) {
      if (counted) incrementMetric(m.rlsOverLimit, 1);
    } else {
      if (counted) incrementMetric(m.rlsErrors, 1);
      if (strategy.failOpen) {
        if (counted) incrementMetric(m.rlsFailedOpen, 1);
        this.rules.push(rule);
        this.tickets.push(GRANTED);
        return;
      }
    }
    if (this.refusedBy === null) this.refusedBy = rule;
  }

  /** The answer to this stream's own call (from the root's on_http_call_response). */
  answered(rule: Rule, answer: u8, now: i64): void {
    if (this.phase != CALLING) return;
    this.pendingAnswers--;
    this.note(rule, answer, true);
    this.decideWhenAnswered(now);
  }

  /** The refill this stream waited on was answered: take a token from the new batch if there is
   *  one; if the batch is already spent, ask again (a call, or the next refill). */
  refilled(rule: Rule, answer: u8, now: i64): void {
    if (this.phase != CALLING) return;
    this.pendingAnswers--;
    if (answer == RLS_OK) {
      const ticket = rule.strategy.check(now);
      if (ticket >= 0) {
        this.root.maybePrefetch(rule, now);
        this.rules.push(rule);
        this.tickets.push(ticket);
      } else {
        this.ask(rule, now);
      }
    } else {
      this.note(rule, answer, false);
    }
    this.decideWhenAnswered(now);
  }

  private decideWhenAnswered(now: i64): void {
    if (this.pendingAnswers > 0) return;
    setEffectiveContext(this.id);
    if (this.decide(now) == Action.CONTINUE) continueRequest();
  }

  /** All answers are in: block with the refusing rule's fallback, or admit. */
  private decide(now: i64): u32 {
    const refusedBy = this.refusedBy;
    if (refusedBy !== null) return this.block(refusedBy, now);
    return this.admit(now);
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (this.phase == FORWARDED && !this.observed && this.hasBreaker) {
      let status: u32 = 0;
      if (getHeader(MapType.HTTP_RESPONSE_HEADERS, STATUS) == Status.OK) status = parseStatus(hostPtr(), hostSize());
      // An upstream that failed before its response headers (connection failure, reset, timeout)
      // reaches the filter as Envoy's router's own 503/504: a reset, whatever the error statuses.
      if (status >= 500 && upstreamFailed()) status = 0;
      this.observe(status, nowMs());
    }
    return Action.CONTINUE;
  }

  onLog(): void { this.end(); }
  onDone(): bool { this.end(); return true; }
  onDelete(): void { this.end(); this.phase = IDLE; }

  /** Called from the root's tick when the pacing slot has arrived. */
  resume(now: i64): void {
    this.phase = FORWARDED;
    this.forwardedAt = now;
    this.countThrottling(false);
  }

  private countThrottling(queued: bool): void {
    for (let i = 0; i < this.rules.length; i++) {
      const strategy = unchecked(this.rules[i]).strategy;
      if (strategy.kind == Kind.Throttling) {
        const m = strategy.metrics!;
        incrementMetric(queued ? m.queued : m.dequeued, 1);
      }
    }
  }

  private block(rule: Rule, now: i64): u32 {
    this.rollbackAll(now);
    incrementMetric(rule.strategy.metrics!.blocked, 1);
    rule.fallback.send();
    this.phase = ENDED;
    return Action.PAUSE;  // ignored by the host after a local reply
  }

  private rollbackAll(now: i64): void {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      unchecked(this.rules[i]).strategy.rollback(unchecked(this.tickets[i]), now);
    }
    this.rules.length = 0;
    this.tickets.length = 0;
  }

  private observe(status: u32, now: i64): void {
    this.observed = true;
    const elapsed = now - this.forwardedAt;
    for (let i = 0; i < this.rules.length; i++) {
      const strategy = unchecked(this.rules[i]).strategy;
      if (strategy.kind == Kind.CircuitBreaker) strategy.observe(unchecked(this.tickets[i]), status, elapsed, now);
    }
  }

  /** The stream is over (first of on_log / on_done / on_delete): give back what it holds, once. */
  private end(): void {
    const phase = this.phase;
    this.phase = ENDED;
    if (phase == ENDED || phase == IDLE || (this.rules.length == 0 && phase != CALLING)) {
      this.rules.length = 0;
      this.tickets.length = 0;
      return;
    }
    // Only breakers use the time when giving back or recording: spare the host call otherwise.
    const now: i64 = this.hasBreaker ? nowMs() : 0;
    if (phase == CALLING) {
      this.root.forgetCalls(this);   // late answers are still used to refill batches
      this.rollbackAll(now);
      return;
    }
    if (phase == QUEUED) {
      this.root.dequeue(this);
      this.rollbackAll(now);
      return;
    }
    if (!this.observed && this.hasBreaker) this.observe(0, now);
    for (let i = 0; i < this.rules.length; i++) {
      unchecked(this.rules[i]).strategy.finish(unchecked(this.tickets[i]), now);
    }
    this.rules.length = 0;
    this.tickets.length = 0;
  }
}

/** Drops candidates whose METHOD differs from the request's; reads :method only if one names a
 *  method. Returns whether any candidate is left. */
function filterByMethod(matched: Resource[]): bool {
  let named = false;
  for (let i = 0; i < matched.length; i++) if (unchecked(matched[i]).method.length > 0) { named = true; break; }
  if (!named) return true;
  let methodPtr: usize = 0;
  let methodLen: usize = 0;
  if (getHeader(MapType.HTTP_REQUEST_HEADERS, METHOD) == Status.OK) {
    methodPtr = hostPtr();
    methodLen = hostSize();
  }
  let kept = 0;
  for (let i = 0; i < matched.length; i++) {
    const r = unchecked(matched[i]);
    if (r.acceptsMethod(methodPtr, methodLen)) unchecked(matched[kept++] = r);
  }
  matched.length = kept;
  return kept > 0;
}

const EARLY_RESET = new Bytes("upstream_reset_before_response_started");   // + "{reason}"
const PER_TRY = new Bytes("upstream_per_try_");                              // _timeout, _idle_timeout
const TIMEOUT = new Bytes("response_timeout");                               // Envoy 1.36
const TIMEOUT_OLD = new Bytes("upstream_response_timeout");                  // older Envoy
const MAX_DURATION = new Bytes("upstream_max_stream_duration_reached");

/** Whether the response is the router's local reply to an upstream failure, from Envoy's
 *  response.code_details ("via_upstream" for a response the upstream sent). Read only for 5xx. */
function upstreamFailed(): bool {
  if (getProperty(CODE_DETAILS) != Status.OK) return false;
  const p = hostPtr();
  const n = hostSize();
  return startsWith(p, n, EARLY_RESET) || startsWith(p, n, PER_TRY) || equals(p, n, TIMEOUT) ||
    equals(p, n, TIMEOUT_OLD) || equals(p, n, MAX_DURATION);
}

function startsWith(ptr: usize, len: usize, prefix: Bytes): bool {
  return len >= prefix.length && memory.compare(ptr, prefix.ptr, prefix.length) == 0;
}

function equals(ptr: usize, len: usize, text: Bytes): bool {
  return bytesEqual(ptr, len, text.ptr, text.length);
}

export function parseStatus(ptr: usize, len: usize): u32 {
  if (len != 3) return 0;
  let v: u32 = 0;
  for (let i: usize = 0; i < 3; i++) {
    const c = <u32>load<u8>(ptr + i) - 0x30;
    if (c > 9) return 0;
    v = v * 10 + c;
  }
  return v;
}
