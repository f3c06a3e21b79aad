// RateLimitStrategy with limitMode Global: `threshold` per window for the whole application, counted
// by a rate-limit service (Envoy's reference service or `sergo rls`) that the filter asks over
// proxy_http_call in the service's HTTP/JSON form (POST /json, a RateLimitRequest; 200 = OK,
// 429 = OVER_LIMIT, anything else or no answer within timeoutMs = an error).
//
// The call is asynchronous: the stream runs its local checks first (they can be rolled back; the
// service has no refunds), pauses, and decides when every answer is in (see filter.ts). On an error
// the rule's fail policy applies (`failOpen`, default false: blocked), and every error is counted.
//
// Batching (`batch` N > 1): a call asks for N hits at once; the N − 1 not used by the calling request
// are kept in a shared record (window number, tokens) and spent by later requests of any worker
// without a call. Each worker has at most one refill call in flight per rule (`refillToken`):
// requests that find the batch empty meanwhile wait for that refill (root.ts) instead of calling.
// A request whose token leaves fewer than N / 2 starts the next refill in the background
// (`wantsPrefetch`), so under steady traffic requests find tokens and never wait for the service.
// Tokens expire with the window they were reserved in, so the service never admits more than
// `threshold`; what can go wrong is tokens reserved but unspent when the window ends — fewer than
// N / 2 plus one batch of N per worker (under-admission) — or spent just after the service's
// window rolled (overshoot of at most that much per window boundary, from clock skew between
// proxy and service).
import { Strategy, Kind, BLOCKED } from "./strategy";
import { updateRecord, Update } from "../state/shared";
import { serializePairs, httpCall } from "../abi";

/** Where the rate-limit service is: an Envoy cluster, and the request line for it. */
export class RateLimitService {
  readonly clusterBytes: ArrayBuffer;
  readonly headers: ArrayBuffer;
  constructor(public cluster: string, authority: string, path: string, public domain: string, public timeoutMs: u32) {
    this.clusterBytes = String.UTF8.encode(cluster);
    this.headers = serializePairs([":method", ":path", ":authority", "content-type"],
                                  ["POST", path, authority, "application/json"]);
  }
}

/** `check` answer for a request that needs a call to the service. A request admitted by a token
 *  from the local batch gets the window number as its ticket (rollback refunds within it). */
export const NEEDS_CALL: i64 = -3;
/** Ticket of a request admitted by the service (nothing to refund). */
export const GRANTED: i64 = -4;

const enum Op { Take, Deposit, Refund }

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

export class GlobalRateLimit extends Strategy {
  /** The RateLimitRequest sent for one call: precomputed, it never changes. */
  body: ArrayBuffer = new ArrayBuffer(0);
  /** Batching: the call refilling this worker's batch, 0 when none is in flight. */
  refillToken: u32 = 0;
  /** Tokens left in the batch after the last successful take (any worker's). */
  private leftAfterTake: i64 = 0;
  private depositAll: bool = false;
  private editWindow: i64 = 0;
  private op: Op = Op.Take;

  constructor(public ruleId: string, public threshold: i64, public windowMs: i64, public batch: i64,
              public failOpen: bool, public service: RateLimitService) {
    super(Kind.RateLimit);
    this.remote = true;
    const unit = unitFor(windowMs);
    let entries = "{\"key\":\"sergo_rule\",\"value\":" + jsonString(ruleId) + "}";
    if (unit.length == 0) entries += ",{\"key\":\"sergo_window_ms\",\"value\":\"" + windowMs.toString() + "\"}";
    const limit = "{\"requests_per_unit\":" + threshold.toString() + ",\"unit\":\"" + (unit.length > 0 ? unit : "SECOND") + "\"}";
    this.body = String.UTF8.encode("{\"domain\":" + jsonString(service.domain) + ",\"descriptors\":[{\"entries\":[" +
      entries + "],\"limit\":" + limit + "}],\"hits_addend\":" + batch.toString() + "}");
  }

  signature(): string {
    return "global,t=" + this.threshold.toString() + ",w=" + this.windowMs.toString() + ",b=" + this.batch.toString();
  }
  recordSize(): usize { return this.batch > 1 ? RECORD_BYTES : 0; }

  /** A token from the local batch when there is one, else NEEDS_CALL. */
  check(now: i64): i64 {
    if (this.threshold <= 0) return BLOCKED;
    if (this.batch <= 1) return NEEDS_CALL;
    this.editWindow = now / this.windowMs;
    this.op = Op.Take;
    return updateRecord(this.key, RECORD_BYTES, this) == Update.Written ? this.editWindow : NEEDS_CALL;
  }

  /** The window in which the service last refused a batch: no background refill until it is over. */
  refusedWindow: i64 = -1;

  /** After a token was taken: whether this worker should refill the batch in the background now. */
  wantsPrefetch(now: i64): bool {
    return this.batch > 1 && this.refillToken == 0 && this.leftAfterTake < this.batch / 2 &&
      this.refusedWindow != now / this.windowMs;
  }

  /** The service refused a call: the budget of this window is (nearly) spent. */
  refused(now: i64): void { this.refusedWindow = now / this.windowMs; }

  /** Sends the call; returns its token (0: the host refused it, e.g. an unknown cluster). */
  call(): u32 {
    return httpCall(this.service.clusterBytes, this.service.headers, this.body, this.service.timeoutMs);
  }

  /** The service granted a batch: keep the N − 1 hits the calling request did not use (all N when
   *  that request is gone). */
  deposit(now: i64, all: bool): void {
    if (this.batch <= 1) return;
    this.editWindow = now / this.windowMs;
    this.op = Op.Deposit;
    this.depositAll = all;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  rollback(ticket: i64, now: i64): void {
    if (ticket < 0) return;   // hits counted by the service cannot be refunded
    this.editWindow = ticket;
    this.op = Op.Refund;
    updateRecord(this.key, RECORD_BYTES, this, true);
  }

  apply(ptr: usize): bool {
    const window = load<i64>(ptr);
    const tokens = load<i64>(ptr, 8);
    if (this.op == Op.Take) {
      if (window != this.editWindow || tokens <= 0) return false;
      store<i64>(ptr, tokens - 1, 8);
      this.leftAfterTake = tokens - 1;
      return true;
    }
    if (this.op == Op.Refund) {
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
