// HTTP facts the filter reads in more than one place: the :status pseudo-header and how to parse
// it, what Envoy's router says when it answered for a failed upstream, and the gRPC statuses of
// the replies.
import { Bytes, bytesEqual, getProperty, hostPtr, hostSize, Status } from "./abi";

export const STATUS = new Bytes(":status");

/** A three-digit :status, or 0 when it is not one. */
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

/** How a forwarded request ended, as a strategy that watches responses learns it. */
export const enum Outcome {
  /** Response headers came (from the upstream, or from a filter or Envoy itself). */
  Answered,
  /** Envoy's router answered for the upstream: connection failure, reset or timeout. */
  UpstreamFailed,
  /** The stream ended without response headers: the client left (or Envoy reset the stream). In
   *  Envoy an upstream failure always reaches the filter as the router's own reply, above. */
  NoResponse,
}

const CODE_DETAILS = new Bytes("response\0code_details");
const EARLY_RESET = new Bytes("upstream_reset_before_response_started");   // + "{reason}"
const PER_TRY = new Bytes("upstream_per_try_");                              // _timeout, _idle_timeout
const TIMEOUT = new Bytes("response_timeout");                               // Envoy 1.36
const TIMEOUT_OLD = new Bytes("upstream_response_timeout");                  // older Envoy
const MAX_DURATION = new Bytes("upstream_max_stream_duration_reached");

/** Whether the response is the router's local reply to an upstream failure, from Envoy's
 *  response.code_details ("via_upstream" for a response the upstream sent). Read only for 5xx. */
export function upstreamFailed(): bool {
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

/** gRPC status codes the fallbacks use by default (grpc/grpc doc/statuscodes.md). */
export const GRPC_RESOURCE_EXHAUSTED: i32 = 8;
export const GRPC_UNAVAILABLE: i32 = 14;
/** Envoy takes 0..16 (Grpc::Status::WellKnownGrpcStatus::MaximumKnown); anything else means none. */
export const GRPC_MAX_STATUS: i32 = 16;
