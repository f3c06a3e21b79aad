// Local replies for blocked requests. Everything a reply needs — body bytes, serialized header
// pairs, details string, gRPC status — is built once at configure time, so blocking costs one host
// call.
//
// gRPC: the filter never looks at the request to tell gRPC from HTTP. Envoy does that itself (the
// request's content-type is application/grpc or application/grpc+…, Grpc::Common::
// isGrpcRequestHeaders) and, for a gRPC request only, turns the local reply into a trailers-only
// gRPC response: :status 200, content-type application/grpc, grpc-status from the status passed
// here, grpc-message = the body, percent-encoded; no body (Http::Utility::prepareLocalReply). For
// any other request the gRPC status is ignored and the reply goes out as configured.
import { Bytes, sendLocalResponse, serializePairs } from "../abi";
import { JsonValue, JsonKind, NONE } from "../config/json";
import { FieldReader } from "../config/reader";
import { GRPC_MAX_STATUS, GRPC_UNAVAILABLE } from "../http";

/** Marks the reply to a request refused because the rate-limit service failed (fail closed). */
export const SERVICE_ERROR_HEADER = "x-sergo-ratelimit-service";
import { BLOCKED_DETAILS } from "../names";

const DETAILS = new Bytes(BLOCKED_DETAILS);

/** The default replies without a rule-id header, by kind and gRPC status: one object for all the
 *  rules of a kind (a configuration of 10,000 rules would otherwise build 10,000 equal replies).
 *  A few entries, scanned: no key string to build per rule. */
const sharedKinds: string[] = [];
const sharedStatuses: i32[] = [];
const sharedBlocked: Fallback[] = [];

export class Fallback {
  readonly body: ArrayBuffer;
  readonly headers: ArrayBuffer;
  readonly details: Bytes = DETAILS;

  constructor(public status: u32, body: string, names: string[], values: string[], public grpcStatus: i32) {
    this.body = String.UTF8.encode(body);
    this.headers = serializePairs(names, values);
  }

  /** The reply when a rule has no fallback: 429 naming only the blocking strategy's kind (the rule
   *  id is internal: it goes to metrics, and to `idHeader` when the configuration names one). */
  static blocked(kind: string, grpcStatus: i32, idHeader: RuleIdHeader): Fallback {
    if (idHeader.name.length == 0) {
      for (let i = 0; i < sharedBlocked.length; i++) {
        if (unchecked(sharedStatuses[i]) == grpcStatus && unchecked(sharedKinds[i]) == kind) return unchecked(sharedBlocked[i]);
      }
      const reply = Fallback.make(kind, grpcStatus, idHeader);
      sharedKinds.push(kind);
      sharedStatuses.push(grpcStatus);
      sharedBlocked.push(reply);
      return reply;
    }
    return Fallback.make(kind, grpcStatus, idHeader);
  }

  /** `kind`: the strategy's kind without "Strategy". */
  private static make(kind: string, grpcStatus: i32, idHeader: RuleIdHeader): Fallback {
    const names = ["content-type"];
    const values = ["text/plain; charset=utf-8"];
    idHeader.addTo(names, values);
    return new Fallback(429, "Blocked by sergo: " + kind + "Strategy\n", names, values, grpcStatus);
  }

  /** The reply when the rate-limit service failed and the rule fails closed: not the rule's limit
   *  reply, so that an outage cannot pass for a limit. gRPC: UNAVAILABLE. */
  static serviceError(status: u32, idHeader: RuleIdHeader): Fallback {
    const names = ["content-type", SERVICE_ERROR_HEADER];
    const values = ["text/plain; charset=utf-8", "unavailable"];
    idHeader.addTo(names, values);
    return new Fallback(status, "Refused by sergo: the rate-limit service is unavailable\n", names, values, GRPC_UNAVAILABLE);
  }

  send(): void {
    sendLocalResponse(this.status, this.details, changetype<usize>(this.body), <usize>this.body.byteLength,
                      changetype<usize>(this.headers), <usize>this.headers.byteLength, this.grpcStatus);
  }
}

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const FALLBACK_FIELDS: StaticArray<string> = ["status", "body", "headers", "grpcStatus"];

/** {"status": 200..599, "body": "…", "headers": [[name, value], …], "grpcStatus": 0..16}; the gRPC
 *  status defaults to the blocking strategy's (`defaultGrpcStatus`). */
export function decodeFallback(f: JsonValue, at: string, r: FieldReader, defaultGrpcStatus: i32, idHeader: RuleIdHeader): Fallback | null {
  const j = r.json;
  if (j.kind(f) != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
  if (!r.fields(f, at, FALLBACK_FIELDS)) return null;
  const status = r.intOf(r.field(0), at, "status", 200, 599, true, 429);
  const grpcStatus = <i32>r.intOf(r.field(3), at, "grpcStatus", 0, GRPC_MAX_STATUS, false, defaultGrpcStatus);
  if (!r.ok) return null;
  const h = r.field(2);
  let body = "";
  const b = r.field(1);
  if (b != NONE) {
    if (j.kind(b) == JsonKind.String) body = j.str(b);
    if (j.kind(b) != JsonKind.String || body.length > 65536) { r.bad(at + ".body", "must be a string of at most 65536 characters"); return null; }
  }
  const names: string[] = [];
  const values: string[] = [];
  if (h != NONE && !decodeHeaders(h, at, r, names, values)) return null;
  idHeader.addTo(names, values);
  return new Fallback(<u32>status, body, names, values, grpcStatus);
}

/** `options.ruleIdHeader`: the header, if any, that names the refusing rule in every block reply. */
export class RuleIdHeader {
  constructor(public name: string, public ruleId: string) {}
  addTo(names: string[], values: string[]): void {
    if (this.name.length == 0) return;
    names.push(this.name);
    values.push(this.ruleId);
  }
}

/** Checks `options.ruleIdHeader`: an HTTP token, stored lower-case. */
export function decodeRuleIdHeader(v: JsonValue, at: string, r: FieldReader): string | null {
  const j = r.json;
  const name = j.kind(v) == JsonKind.String ? j.str(v) : "";
  if (!isToken(name)) { r.bad(at, "must be an HTTP header name"); return null; }
  return asciiLower(name);
}

/** The `headers` (at `h`) of the fallback at `at`; places below it are written only into an error. */
function decodeHeaders(h: JsonValue, at: string, r: FieldReader, names: string[], values: string[]): bool {
  const j = r.json;
  if (j.kind(h) != JsonKind.Array || j.size(h) > 64) return r.bad(at + ".headers", "must be a list of at most 64 [name, value] pairs");
  let pair = j.first(h);
  for (let i = 0; i < j.size(h); i++) {
    const two = j.kind(pair) == JsonKind.Array && j.size(pair) == 2;
    const n = two ? j.first(pair) : NONE;
    const v = two ? j.next(n) : NONE;
    if (j.kind(n) != JsonKind.String || j.kind(v) != JsonKind.String) return r.bad(headerAt(at, i), "must be [name, value] strings");
    const name = j.str(n);
    const value = j.str(v);
    if (!isToken(name)) return r.bad(headerAt(at, i), "header name must be an HTTP token");
    if (!isHeaderValue(value)) return r.bad(headerAt(at, i), "header value must not contain CR, LF or NUL");
    names.push(asciiLower(name));
    values.push(value);
    pair = j.next(pair);
  }
  return true;
}

/** Split into strings the module has anyway (no new literal for a path only an error needs). */
function headerAt(at: string, i: i32): string { return at + ".headers" + "[" + i.toString() + "]"; }

function isToken(s: string): bool {
  if (s.length == 0 || s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b ||
      c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

function isHeaderValue(s: string): bool {
  if (s.length > 8192) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  return true;
}

/** Lower case for an HTTP token (ASCII by then): String#toLowerCase would bring Unicode's case
 *  tables into the module. */
function asciiLower(s: string): string {
  let out = s;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      out = "";
      for (let j = 0; j < s.length; j++) {
        const d = s.charCodeAt(j);
        out += String.fromCharCode(d >= 0x41 && d <= 0x5a ? d + 0x20 : d);
      }
      break;
    }
  }
  return out;
}
