// What one check says about a request (after Sentinel-Go's TokenResult): pass, block, wait until a
// time, or ask the rate-limit service. One per stream, reused by every check of every request.
//
// A check that takes something the request must give back or report on later (a count, a slot, a
// probe) says so with a reservation: an i64 whose meaning only that strategy knows (a bucket number,
// a slot time, …). The chain stores it and hands it back to the same strategy, never reads it.

export const enum Verdict { Pass, Block, Wait, Ask }

export class CheckResult {
  verdict: Verdict = Verdict.Pass;
  /** Pass and Wait: the strategy took something (see `reservation`). */
  reserved: bool = false;
  reservation: i64 = 0;
  /** Wait: when the request may go on (ms, the host clock). */
  until: i64 = 0;
  /** Block: caused by a rate-limit service error (the rule's service-error reply applies). */
  serviceError: bool = false;

  /** Admitted, nothing taken (e.g. CAS attempts exhausted under onCasExhausted "allow"). */
  pass(): void { this.verdict = Verdict.Pass; this.reserved = false; }
  passWith(reservation: i64): void { this.verdict = Verdict.Pass; this.reserved = true; this.reservation = reservation; }
  block(): void { this.verdict = Verdict.Block; this.reserved = false; this.serviceError = false; }
  /** Refused because the rate-limit service could not answer (fail closed), not over the limit. */
  blockOnServiceError(): void { this.block(); this.serviceError = true; }
  waitUntil(until: i64, reservation: i64): void {
    this.verdict = Verdict.Wait;
    this.reserved = true;
    this.reservation = reservation;
    this.until = until;
  }
  /** Only the rate-limit service can decide (the chain asks once every local check has passed). */
  ask(): void { this.verdict = Verdict.Ask; this.reserved = false; }
}
