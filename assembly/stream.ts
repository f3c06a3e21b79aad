// The stream context of the sergo filter: one request through the check chain (chain/chain.ts),
// from its request headers to its end, in these phases:
//
//   IDLE ─▶ (blocked) ENDED
//     └─▶ WAITING for its time (pacing), released by the worker's tick ─▶ the chain goes on …
//     └─▶ ASKING the rate-limit service (after every local check) ─▶ FORWARDED ─▶ ENDED
//
// WAITING and ASKING are skipped when not needed. Whatever the request took is settled once, in
// `conclude()`, on the first of on_log and on_delete: a request that never reached the
// upstream gives everything back, a forwarded one records how it ended and releases what it holds.
import {
  StreamContext, Action, MapType, Status, Bytes, nowMs, hostPtr, hostSize, getHeader, continueRequest,
} from "./abi";
import { Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Fallback } from "./fallback/fallback";
import { canonicalize, pathEnd } from "./match/canonical";
import { Chain } from "./chain/chain";
import { Verdict, CheckResult } from "./chain/result";
import { Strategy, Waiter } from "./strategies/strategy";
import { STATUS, parseStatus, Outcome, upstreamFailed } from "./http";
import { Worker } from "./worker";
import { laneRequest } from "./lane/lane";

const PATH = new Bytes(":path");
const METHOD = new Bytes(":method");

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const ASKING: u8 = 2;
const FORWARDED: u8 = 3;
const ENDED: u8 = 4;

/** The stream's side of a rate-limit service answer. */
class StreamWaiter extends Waiter {
  constructor(private stream: SergoStream) { super(); }
  answered(strategy: Strategy, now: i64): void { this.stream.answered(strategy, this.result, now); }
}

export class SergoStream extends StreamContext {
  phase: u8 = IDLE;
  /** WAITING: when the worker releases the request. */
  wakeAt: i64 = 0;
  private forwardedAt: i64 = 0;
  private responseSeen: bool = false;
  private chain: Chain = new Chain();
  private waiter!: StreamWaiter;
  /** ASKING: answers still awaited, whether the asks are still being made, the first refusal. */
  private pendingAnswers: i32 = 0;
  private asking: bool = false;
  private refusedBy: Rule | null = null;
  /** The refusal came from a rate-limit service error, not an over-limit answer. */
  private refusedOnError: bool = false;

  constructor(public worker: Worker<SergoStream>) {
    super();
    this.waiter = new StreamWaiter(this);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 {
    this.phase = IDLE;
    const chain = this.chain;
    chain.clear();
    const active = this.worker.active;
    if (active === null) return Action.CONTINUE;
    // Before routing: Envoy's router, after this filter, routes on the lane header set here.
    const lanes = active.lanes;
    if (lanes !== null && laneRequest(lanes)) this.worker.countsQueued();
    if (active.resources.length == 0) return Action.CONTINUE;
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) != Status.OK) return Action.CONTINUE;
    const pathPtr = hostPtr();
    // The host's copy of :path is ours until the callback returns: canonicalised in place.
    const pathLen = canonicalize(pathPtr, pathEnd(pathPtr, hostSize()));
    active.matcher.match(pathPtr, pathLen, chain.resources);
    if (chain.resources.length == 0 || !filterByMethod(chain.resources)) return Action.CONTINUE;
    return this.proceed(nowMs());
  }

  /** The worker's tick: the request's time has come (this stream is the effective context). */
  release(now: i64): void {
    this.phase = IDLE;
    this.chain.stoppedBy!.strategy.resumed();
    if (this.proceed(now) == Action.CONTINUE) continueRequest();
  }

  /** Runs the chain from where it stopped: block, wait for a time, ask the service, or go upstream. */
  private proceed(now: i64): u32 {
    const chain = this.chain;
    const verdict = chain.run(now);
    let action: u32;
    if (verdict == Verdict.Block) action = this.block(chain.stoppedBy!, now);
    else if (verdict == Verdict.Wait) action = this.wait(now);
    else if (chain.asks.length > 0) action = this.askService(now);
    else action = this.forward(now);
    this.worker.afterDecision(now);
    return action;
  }

  private wait(now: i64): u32 {
    const rule = this.chain.stoppedBy!;
    const worker = this.worker;
    if (worker.queueFull()) {
      const m = worker.metrics;
      if (m !== null) m.inc(m.queueOverflow);
      return this.block(rule, now);
    }
    this.chain.countPassed();
    this.phase = WAITING;
    this.wakeAt = this.chain.waitUntil;
    worker.enqueue(this, now);
    rule.strategy.paused();
    return Action.PAUSE;
  }

  /** Every local check passed; ask the service for each rule that needs it, in parallel. */
  private askService(now: i64): u32 {
    this.phase = ASKING;
    this.refusedBy = null;
    const asks = this.chain.asks;
    this.pendingAnswers = asks.length;
    this.asking = true;
    for (let i = 0; i < asks.length; i++) unchecked(asks[i]).strategy.ask(this.waiter, now);
    this.asking = false;
    if (this.pendingAnswers > 0) return Action.PAUSE;
    return this.afterAnswers(now);
  }

  /** A strategy's answer to this request's ask (now, or later from its call's answer). */
  answered(strategy: Strategy, result: CheckResult, now: i64): void {
    if (this.phase != ASKING) return;
    const rule = this.askedRule(strategy);
    if (result.verdict == Verdict.Block) {
      if (this.refusedBy === null) { this.refusedBy = rule; this.refusedOnError = result.serviceError; }
    } else {
      this.chain.pass(rule, result);
    }
    this.pendingAnswers--;
    if (this.pendingAnswers > 0 || this.asking) return;
    this.makeEffective();
    const action = this.afterAnswers(now);
    this.worker.afterDecision(now);
    if (action == Action.CONTINUE) continueRequest();
  }

  private askedRule(strategy: Strategy): Rule {
    const asks = this.chain.asks;
    for (let i = 0; i < asks.length; i++) if (unchecked(asks[i]).strategy === strategy) return unchecked(asks[i]);
    return unchecked(asks[0]);   // unreachable: only asked strategies answer
  }

  /** All answers are in: block with the first refusing rule's fallback, or go upstream. */
  private afterAnswers(now: i64): u32 {
    const refusedBy = this.refusedBy;
    if (refusedBy === null) return this.forward(now);
    const reply = this.refusedOnError ? refusedBy.serviceErrorReply : null;
    return this.block(refusedBy, now, reply !== null ? reply : refusedBy.fallback);
  }

  private forward(now: i64): u32 {
    this.chain.countPassed();
    this.phase = FORWARDED;
    this.forwardedAt = now;
    this.responseSeen = false;
    return Action.CONTINUE;
  }

  private block(rule: Rule, now: i64, reply: Fallback = rule.fallback): u32 {
    this.chain.withdrawAll(now);
    rule.strategy.countBlocked();
    reply.send();
    this.phase = ENDED;
    return Action.PAUSE;  // ignored by the host after a local reply
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (this.phase != FORWARDED || this.responseSeen || !this.chain.watchesResponse) return Action.CONTINUE;
    this.responseSeen = true;
    let status: u32 = 0;
    if (getHeader(MapType.HTTP_RESPONSE_HEADERS, STATUS) == Status.OK) status = parseStatus(hostPtr(), hostSize());
    // An upstream that failed before its response headers (connection failure, reset, timeout)
    // reaches the filter as Envoy's router's own 503/504, which says so in its code details.
    const outcome = status >= 500 && upstreamFailed() ? Outcome.UpstreamFailed : Outcome.Answered;
    const now = nowMs();
    this.chain.observeAll(outcome, status, now - this.forwardedAt, now);
    return Action.CONTINUE;
  }

  onLog(): void { this.conclude(); }
  onDelete(): void { this.conclude(); this.phase = IDLE; }

  /** The stream is over (first of on_log / on_delete): settle what it took, once. */
  private conclude(): void {
    const phase = this.phase;
    this.phase = ENDED;
    if (phase == IDLE || phase == ENDED) return;
    const chain = this.chain;
    // Only a strategy that watches responses uses the time, and only to give back or to record an
    // end without response headers: spare the host call otherwise.
    const now: i64 = chain.watchesResponse && (phase != FORWARDED || !this.responseSeen) ? nowMs() : 0;
    if (phase == WAITING) {
      this.worker.dequeue(this);
      chain.withdrawAll(now);
    } else if (phase == ASKING) {
      const asks = chain.asks;
      for (let i = 0; i < asks.length; i++) unchecked(asks[i]).strategy.forget(this.waiter);
      chain.withdrawAll(now);
    } else {
      // No response headers: the client left (Envoy answers upstream failures itself, above).
      if (!this.responseSeen && chain.watchesResponse) chain.observeAll(Outcome.NoResponse, 0, now - this.forwardedAt, now);
      chain.finishAll(now);
    }
  }
}

/** Drops candidates whose METHOD differs from the request's; reads :method only if one names a
 *  method. Returns whether any candidate is left. */
function filterByMethod(matched: Resource[]): bool {
  let named = false;
  for (let i = 0; i < matched.length; i++) if (unchecked(matched[i]).methodLength > 0) { named = true; break; }
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
