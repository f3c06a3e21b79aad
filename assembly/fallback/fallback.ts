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
import { Kind, kindName } from "../strategies/strategy";

/** gRPC status codes the fallbacks use by default (grpc/grpc doc/statuscodes.md). */
export const GRPC_RESOURCE_EXHAUSTED: i32 = 8;
export const GRPC_UNAVAILABLE: i32 = 14;
/** Envoy takes 0..16 (Grpc::Status::WellKnownGrpcStatus::MaximumKnown); anything else means none. */
export const GRPC_MAX_STATUS: i32 = 16;

/** The default gRPC status of a rule's fallback: limits are RESOURCE_EXHAUSTED, an open breaker
 *  is UNAVAILABLE (the service is not being called, retry later). */
export function defaultGrpcStatus(kind: Kind): i32 {
  return kind == Kind.CircuitBreaker ? GRPC_UNAVAILABLE : GRPC_RESOURCE_EXHAUSTED;
}

export class Fallback {
  readonly body: ArrayBuffer;
  readonly headers: ArrayBuffer;
  readonly details: Bytes;

  constructor(public status: u32, body: string, names: string[], values: string[],
              public grpcStatus: i32, details: string = "sergo_blocked") {
    this.body = String.UTF8.encode(body);
    this.headers = serializePairs(names, values);
    this.details = new Bytes(details);
  }

  /** The reply when a rule has no fallback: 429 naming the blocking strategy. */
  static blocked(kind: Kind, ruleId: string): Fallback {
    return new Fallback(429, "Blocked by sergo: " + kindName(kind) + " (" + ruleId + ")\n",
                        ["content-type"], ["text/plain; charset=utf-8"], defaultGrpcStatus(kind));
  }

  send(): void {
    sendLocalResponse(this.status, this.details, changetype<usize>(this.body), <usize>this.body.byteLength,
                      changetype<usize>(this.headers), <usize>this.headers.byteLength, this.grpcStatus);
  }
}
