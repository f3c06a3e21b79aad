// The shape every strategy shares (after Sentinel-Go's rule-check slots): a check when the request
// reaches its step of the chain (chain/order.ts), and afterwards whatever the check took given back
// or recorded. The chain knows no strategy by name: it asks each one, through the methods below,
// what it needs — a wait, the response, an answer from the rate-limit service. Each strategy keeps
// its state in one shared-data record per rule (../state/shared.ts), so limits hold across all of
// Envoy's worker VMs, and decodes its own slice of the configuration (next to its check).
//
// Life of a reservation (CheckResult.reservation) taken by `check`:
//   check ──block──▶ (nothing taken)
//     └─pass/wait──▶ reservation ──blocked by a later check, or the stream ended before forwarding──▶ withdraw
//                                └─forwarded──▶ observe (if it watches responses) ──stream ended──▶ finish
import { RecordEdit, Update } from "../state/shared";
import { CheckResult } from "../chain/result";
import { Outcome, GRPC_RESOURCE_EXHAUSTED } from "../http";

/** What to do when every CAS attempt lost the race (counted in sergo.cas_exhausted). */
let allowOnCasExhausted = false;
export let casExhaustedCount: i64 = 0;
export function setAllowOnCasExhausted(allow: bool): void { allowOnCasExhausted = allow; }

export abstract class Strategy extends RecordEdit {
  /** Shared-data key: "sergo:" + name + "Strategy:" + rule id + "#" + signature. Set by the rule. */
  key: ArrayBuffer = new ArrayBuffer(0);

  /** The OpenSergo kind without "Strategy": the metrics' sergo_strategy tag, the default reply. */
  abstract name(): string;
  /** Its place in the chain (a STEP_ of chain/order.ts). */
  abstract step(): i32;
  /** The parameters that define the state's meaning; part of the key, so a change starts afresh. */
  abstract signature(): string;
  /** Size of the shared record in bytes (0: none). */
  recordSize(): usize { return 0; }
  /** Pass, block, wait or ask, into `result`. */
  abstract check(now: i64, result: CheckResult): void;

  /** Metrics of its own beside requests_passed/blocked; `tags` is the rule's encoded tags. */
  defineMetrics(tags: string): void {}
  /** The gRPC status of its default reply. */
  defaultGrpcStatus(): i32 { return GRPC_RESOURCE_EXHAUSTED; }
  /** The HTTP status of the reply when the rate-limit service failed and the rule fails closed;
   *  0 for strategies that ask no service. */
  statusOnError(): u32 { return 0; }
  /** Whether it wants `observe` (and the clock when the stream ends). */
  watchesResponse(): bool { return false; }

  /** The request never reached the upstream: give back what the check took. */
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

  /** A check's record update as its result: written → pass with `reservation`, unchanged → block. */
  protected settle(update: Update, result: CheckResult, reservation: i64): void {
    if (update == Update.Written) result.passWith(reservation);
    else if (update == Update.Unchanged) result.block();
    else {
      casExhaustedCount++;
      if (allowOnCasExhausted) result.pass(); else result.block();
    }
  }
}

/** A request waiting for a strategy's answer (the rate-limit service's). */
export abstract class Waiter {
  /** Set by the strategy before `answered`: pass (with or without a reservation) or block. */
  readonly result: CheckResult = new CheckResult();
  abstract answered(strategy: Strategy, now: i64): void;
}
