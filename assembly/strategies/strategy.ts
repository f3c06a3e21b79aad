// The shape every strategy shares (after Sentinel-Go: a rule, a check on entry, a record on
// completion). Each strategy keeps its state in one shared-data record per rule (see
// ../state/shared.ts) so limits hold across all of Envoy's worker VMs.
//
// Life of a reservation ("ticket") taken by `check`:
//   check ──blocked──▶ (nothing taken)
//     └─admitted──▶ ticket ──request blocked by a later check / stream ended before forwarding──▶ rollback
//                        └─forwarded──▶ observe (response or reset seen) ──stream ended──▶ finish
import { RecordEdit, Update } from "../state/shared";
import { RuleMetrics } from "../metrics";

export const enum Kind { RateLimit = 0, Throttling = 1, ConcurrencyLimit = 2, CircuitBreaker = 3 }
export const KIND_COUNT = 4;

/** `check` result for a blocked request. Tickets of admitted requests are >= 0. */
export const BLOCKED: i64 = -1;
/** Admitted without a reservation (CAS retries exhausted under the "allow" policy). */
export const UNRESERVED: i64 = -2;

/** "RateLimitStrategy" (the OpenSergo kind), or "RateLimit" without the suffix (metric tags). */
export function kindName(kind: Kind, withSuffix: bool = true): string {
  let name: string;
  switch (kind) {
    case Kind.RateLimit: name = "RateLimit"; break;
    case Kind.Throttling: name = "Throttling"; break;
    case Kind.ConcurrencyLimit: name = "ConcurrencyLimit"; break;
    default: name = "CircuitBreaker";
  }
  return withSuffix ? name + "Strategy" : name;
}

/** What to do when every CAS attempt lost the race (counted in sergo.cas_exhausted). */
export let allowOnCasExhausted = false;
export let casExhaustedCount: i64 = 0;
export function setAllowOnCasExhausted(allow: bool): void { allowOnCasExhausted = allow; }

/** Decision for a check whose record update ran out of CAS attempts. */
export function exhaustedDecision(): i64 {
  casExhaustedCount++;
  return allowOnCasExhausted ? UNRESERVED : BLOCKED;
}

export abstract class Strategy extends RecordEdit {
  /** Shared-data key: "sergo:" + kind + ":" + rule id + "#" + parameters. Set by the rule. */
  key: ArrayBuffer = new ArrayBuffer(0);
  /** Decided by a remote service (GlobalRateLimit): `check` may answer NEEDS_CALL. */
  remote: bool = false;
  /** The rule's metrics (set by the rule at configure time). */
  metrics: RuleMetrics | null = null;

  constructor(public kind: Kind) { super(); }

  /** The parameters that define the state's meaning; part of the key, so a change starts afresh. */
  abstract signature(): string;
  /** Size of the shared record in bytes. */
  abstract recordSize(): usize;
  /** Admit (a ticket >= 0) or block (BLOCKED). */
  abstract check(now: i64): i64;
  /** Undo the reservation of a request that never reached the upstream. */
  rollback(ticket: i64, now: i64): void {}
  /** The forwarded request got response headers (status > 0) or was reset before them (status 0). */
  observe(ticket: i64, status: u32, responseMs: i64, now: i64): void {}
  /** The forwarded request's stream ended. */
  finish(ticket: i64, now: i64): void {}

  /** Runs an update and maps its outcome to a ticket. */
  protected decide(update: Update, admittedTicket: i64): i64 {
    if (update == Update.Exhausted) return exhaustedDecision();
    return update == Update.Written ? admittedTicket : BLOCKED;
  }
}
