// The shape every strategy shares (after Sentinel-Go's rule-check slots): a check when the request
// reaches its step of the chain (chain/order.ts), and afterwards whatever the check took given back
// or recorded. The chain knows no strategy by name: it asks each one, through the methods below,
// what it needs — a wait, the response, an answer from the rate-limit service. Its state lives in
// shared data, so limits hold across all of Envoy's worker VMs, and it decodes its own slice of the
// configuration (next to its check).
//
// Where the state lives: a "packed" strategy (the local ones) has a section of its resource's one
// record (../state/packed.ts); the chain reads that record once for all the rules of the resource,
// lets each strategy edit its section in memory (`take`, `giveBack`, `ended`) and writes it once.
// A strategy that is not packed (GlobalRateLimit) keeps its own record and does its own reads and
// writes in `check`, `withdraw`, `observe` and `finish`.
//
// Life of a reservation (CheckResult.reservation) taken by a check:
//   take/check ──block──▶ (nothing taken)
//     └─pass/wait──▶ reservation ──blocked by a later check, or the stream ended before forwarding──▶ giveBack / withdraw
//                                └─forwarded──▶ the stream ended: ended (observe + finish)
import { RecordEdit } from "../state/shared";
import { KeyWriter } from "./key";
import { PackedRecord } from "../state/packed";
import { CheckResult } from "../chain/result";
import { Outcome, GRPC_RESOURCE_EXHAUSTED } from "../http";
import { writeRuleTags } from "../metrics";
import { MetricType, defineMetricAfter, incrementMetric } from "../abi";
import * as names from "../names";

/** Every strategy's key until its rule sets it (shared: none is made to be replaced). */
const NO_KEY = new ArrayBuffer(0);

/** What to do when every CAS attempt lost the race (counted in sergo.cas_exhausted). */
let allowOnCasExhausted = false;
export let casExhaustedCount: i64 = 0;
export function setAllowOnCasExhausted(allow: bool): void { allowOnCasExhausted = allow; }

export abstract class Strategy extends RecordEdit {
  /** Shared-data key: "sergo:" + name + "Strategy:" + rule id + "#" + signature. Set by the rule. */
  key: ArrayBuffer = NO_KEY;
  /** A packed strategy's resource record and its section there (set when the config is built). */
  record: PackedRecord | null = null;
  section: i32 = 0;
  /** Its rule's id and resource key: its metrics' tags (set when the config is built). */
  ruleId: string = "";
  ruleResource: string = "";
  // Its rule's requests_passed / requests_blocked, defined on first use (useMetrics).
  private passedMetric: u32 = u32.MAX_VALUE;
  private blockedMetric: u32 = u32.MAX_VALUE;
  private metricsDefined: bool = false;
  // requests_passed / requests_blocked not yet handed to the host (flushCounts).
  private passedPending: i64 = 0;
  private blockedPending: i64 = 0;
  private unflushedNow: bool = false;
  private ownDefined: bool = false;
  /** Its state key is one the VM's previous build had (its rule is unchanged): takeover.ts. */
  keptState: bool = false;

  /** The OpenSergo kind without "Strategy": the metrics' sergo_strategy tag, the default reply. */
  abstract name(): string;
  /** Its place in the chain (a STEP_ of chain/order.ts). */
  abstract step(): i32;
  /** The parameters that define the state's meaning; part of the key, so a change starts afresh. */
  abstract writeSignature(k: KeyWriter): void;
  /** Size of its state in bytes (0: none). */
  recordSize(): usize { return 0; }
  /** Whether its state is a section of its resource's packed record. */
  packed(): bool { return this.recordSize() > 0; }

  /** Packed: the check on its section at `ptr` (in memory): pass, block or wait into `result`;
   *  returns whether the section changed. */
  take(ptr: usize, now: i64, result: CheckResult): bool { result.pass(); return false; }
  /** Packed: give back what `take` reserved (the request never reached the upstream). */
  giveBack(ptr: usize, reservation: i64, now: i64): bool { return false; }
  /** Packed: the forwarded request's stream ended — how, for a strategy that watches responses
   *  (its status when Outcome.Answered, `elapsedMs` after forwarding, at `now`) — release what it holds. */
  ended(ptr: usize, reservation: i64, outcome: Outcome, status: u32, elapsedMs: i64, now: i64): bool { return false; }
  /** Packed: whether `ended` has anything to do (a slot to release, an outcome to record). */
  endsWithStream(): bool { return false; }
  /** Packed: the edit made by the last take/giveBack/ended was written. */
  committed(): void {}

  /** Not packed: pass, block, wait or ask, into `result`. */
  check(now: i64, result: CheckResult): void { result.pass(); }

  /** Its rule's metrics, defined now if they were not (with the strategy's own). */
  protected useMetrics(): void {
    if (!this.metricsDefined) {
      this.metricsDefined = true;
      const tags = this.writeTags();
      this.passedMetric = defineMetricAfter(MetricType.COUNTER, tags, names.REQUESTS_PASSED);
      this.blockedMetric = defineMetricAfter(MetricType.COUNTER, tags, names.REQUESTS_BLOCKED);
    }
    this.defineOwnMetrics();
  }

  /** Its own metrics (defineMetrics), once. */
  protected defineOwnMetrics(): void {
    if (this.ownDefined) return;
    this.ownDefined = true;
    this.defineMetrics();
  }

  /** A reload kept its rule (same id, resource and kind, so the same metric names): take over the
   *  metrics `from` defined instead of defining them again. Envoy adds an id for every define and
   *  never frees one, so redefining every rule at every push would grow each VM without end. */
  adoptMetrics(from: Strategy): void {
    if (from.metricsDefined) {
      this.metricsDefined = true;
      this.passedMetric = from.passedMetric;
      this.blockedMetric = from.blockedMetric;
    }
    if (from.ownDefined && this.adoptOwnMetrics(from)) this.ownDefined = true;
  }

  /** Takes over `from`'s own metrics (defineMetrics) when it is of its class; returns whether it did. */
  protected adoptOwnMetrics(from: Strategy): bool { return true; }

  /** Starts a metric name with its rule's encoded tags; returns their length (defineMetricAfter). */
  protected writeTags(): usize { return writeRuleTags(this.ruleId, this.ruleResource, this.name()); }
  /** A counter of its rule named `name` (after the tags). */
  protected counter(name: string): u32 { return defineMetricAfter(MetricType.COUNTER, this.writeTags(), name); }

  countPassed(): void { this.passedPending++; this.queueCounts(); }
  countBlocked(): void { this.blockedPending++; this.queueCounts(); }

  private queueCounts(): void {
    if (this.unflushedNow) return;
    this.unflushedNow = true;
    unflushed.push(this);
  }

  /** Hands its pending counts to the host. */
  flushCounts(): void {
    this.useMetrics();
    if (this.passedPending > 0) incrementMetric(this.passedMetric, this.passedPending);
    if (this.blockedPending > 0) incrementMetric(this.blockedMetric, this.blockedPending);
    this.passedPending = 0;
    this.blockedPending = 0;
    this.unflushedNow = false;
  }

  /** At configure time: what must exist before the rule's first use (a breaker's state and
   *  transition metrics, a record of its own). */
  prepareAtConfigure(): void {}

  /** At configure time, once its record exists, when its state is new to this VM (`publishesState`):
   *  its section there (NO_SECTION: none). */
  publishState(section: usize): void {}
  /** Whether it has a state to publish at configure (a breaker's state gauge). */
  publishesState(): bool { return false; }

  /** Metrics of its own beside requests_passed/blocked, named after its rule's tags (writeTags). */
  defineMetrics(): void {}
  /** The gRPC status of its default reply. */
  defaultGrpcStatus(): i32 { return GRPC_RESOURCE_EXHAUSTED; }
  /** The HTTP status of the reply when the rate-limit service failed and the rule fails closed;
   *  0 for strategies that ask no service. */
  statusOnError(): u32 { return 0; }
  /** Whether it wants `observe` (and the clock when the stream ends). */
  watchesResponse(): bool { return false; }

  /** Not packed: the request never reached the upstream: give back what the check took. */
  withdraw(reservation: i64, now: i64): void {}
  /** How the forwarded request ended (its status when Outcome.Answered), `elapsedMs` after forwarding. */
  observe(reservation: i64, outcome: Outcome, status: u32, elapsedMs: i64, now: i64): void {}
  /** The forwarded request's stream ended. */
  finish(reservation: i64, now: i64): void {}
  /** Its Wait paused the request / the paused request was released. */
  paused(): void {}
  resumed(): void {}

  /** Its check said Ask: get the answer for `waiter` (then `waiter.answered`, now or later). */
  ask(waiter: Waiter, now: i64): void {}
  /** The waiter's stream ended before the answer: it wants none. */
  forget(waiter: Waiter): void {}
}

/** Strategies with counts not yet handed to the host (each once). */
const unflushed: Strategy[] = [];

export function countsPending(): bool { return unflushed.length > 0; }

/** Hands every pending request count to the host (the worker's tick). */
export function flushCounts(): void {
  for (let i = 0; i < unflushed.length; i++) unchecked(unflushed[i]).flushCounts();
  unflushed.length = 0;
}

/** What to do when every attempt of a check's write lost the race: admit (nothing reserved) or block. */
export function allowsOnCasExhausted(): bool { return allowOnCasExhausted; }
/** A check's write lost every race (flushed as sergo.cas_exhausted by the worker). */
export function countCasExhausted(): void { casExhaustedCount++; }

/** A request waiting for a strategy's answer (the rate-limit service's). */
export abstract class Waiter {
  /** Set by the strategy before `answered`: pass (with or without a reservation) or block. */
  readonly result: CheckResult = new CheckResult();
  abstract answered(strategy: Strategy, now: i64): void;
}
