// Thin, allocation-free wrappers over the host functions. Results that the host writes into guest
// memory stay valid until the current callback returns (see ./memory.ts).
import * as imp from "./imports";
import { Status, LogLevel, StreamType } from "./enums";
import { RET, retPtr, retSize, retCas, retU64, Bytes, writeAscii } from "./memory";

// ---- logging: the level is read once per configure, so a disabled level costs no host call ----
let currentLogLevel: u32 = LogLevel.INFO;

export function refreshLogLevel(): void {
  if (imp.proxy_get_log_level(RET) == Status.OK) currentLogLevel = load<u32>(RET);
}
export function log(level: u32, message: string): void {
  if (level < currentLogLevel) return;
  const bytes = String.UTF8.encode(message);
  imp.proxy_log(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

// ---- time ----
export function nowMs(): i64 {
  imp.proxy_get_current_time_nanoseconds(RET + 16);
  return <i64>(retU64() / 1_000_000);
}

// ---- buffers ----
/** Reads a whole host buffer; on OK the bytes are at hostPtr()/hostSize(). */
export function readBuffer(bufferType: u32, size: usize): u32 {
  store<u64>(RET, 0);
  return imp.proxy_get_buffer_bytes(bufferType, 0, <u32>size, RET, RET + 4);
}
@inline export function hostPtr(): usize { return retPtr(); }
@inline export function hostSize(): usize { return retSize(); }
@inline export function hostCas(): u32 { return retCas(); }

// ---- headers ----
/** Looks up a header; on OK the value is at hostPtr()/hostSize(). NOT_FOUND when absent. */
export function getHeader(mapType: u32, name: Bytes): u32 {
  store<u64>(RET, 0);
  return imp.proxy_get_header_map_value(mapType, name.ptr, name.length, RET, RET + 4);
}

/** Sets a header to one value (every earlier value of that name goes, as Envoy's setCopy). On the
 *  request headers Envoy then clears the route cache: the router matches routes on the new value. */
export function replaceHeader(mapType: u32, name: Bytes, valuePtr: usize, valueSize: usize): u32 {
  return imp.proxy_replace_header_map_value(mapType, name.ptr, name.length, valuePtr, valueSize);
}

// ---- properties ----
/** Reads a property (path tokens joined by NUL bytes); on OK the value is at hostPtr()/hostSize(). */
export function getProperty(path: Bytes): u32 {
  store<u64>(RET, 0);
  return imp.proxy_get_property(path.ptr, path.length, RET, RET + 4);
}

// ---- stream control ----
export function continueRequest(): u32 { return imp.proxy_continue_stream(StreamType.HTTP_REQUEST); }

/** The context stream calls go to: the one whose callback runs, until set_effective_context. */
let effectiveContextId: u32 = 0;
/** Called at the start of every exported callback with the context it is for. */
@inline export function enterCallback(contextId: u32): void { effectiveContextId = contextId; }
export function setEffectiveContext(contextId: u32): void {
  if (contextId == effectiveContextId) return;
  effectiveContextId = contextId;
  imp.proxy_set_effective_context(contextId);
}

/** Sends a local reply. `headers` is a serialized header-pair buffer (or 0/0); `grpcStatus` is
 *  used by the host for gRPC requests only (-1: none, the host derives one from `status`). */
export function sendLocalResponse(status: u32, details: Bytes, bodyPtr: usize, bodySize: usize,
                                  headersPtr: usize, headersSize: usize, grpcStatus: i32 = -1): u32 {
  return imp.proxy_send_local_response(status, details.ptr, details.length, bodyPtr, bodySize,
                                       headersPtr, headersSize, grpcStatus);
}

// ---- shared data ----
/** Reads a shared-data value; on OK the bytes are at hostPtr()/hostSize() and the cas in hostCas(). */
export function sharedGet(keyPtr: usize, keySize: usize): u32 {
  store<u64>(RET, 0);
  store<u32>(RET, 0, 8);
  return imp.proxy_get_shared_data(keyPtr, keySize, RET, RET + 4, RET + 8);
}
export function sharedSet(keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize, cas: u32): u32 {
  return imp.proxy_set_shared_data(keyPtr, keySize, valuePtr, valueSize, cas);
}

// ---- metrics ----
// A metric's name is written here in UTF-8 from its parts (tags, then name): no string is built or
// encoded per metric, and metrics that share a prefix (a rule's tags) write it once.
let nameBuffer: usize = 0;
let nameCapacity: usize = 0;
let nameLength: usize = 0;

/** Starts a metric name (its parts are appended with appendName / appendNameRange). */
export function startName(): void { nameLength = 0; }
/** How many bytes of the name are written (a prefix to keep: defineMetricAfter). */
export function nameWritten(): usize { return nameLength; }

export function appendName(part: string): void { appendNameRange(part, 0, part.length); }

/** Appends characters [from, to) of `s`. */
export function appendNameRange(s: string, from: i32, to: i32): void {
  const units = to - from;
  const most = <usize>units * 3;   // UTF-8 bytes per UTF-16 unit, at most
  if (nameLength + most > nameCapacity) {
    nameCapacity = (nameLength + most) * 2;
    nameBuffer = nameBuffer == 0 ? heap.alloc(nameCapacity) : heap.realloc(nameBuffer, nameCapacity);
  }
  const src = changetype<usize>(s) + (<usize>from << 1);
  const out = nameBuffer + nameLength;
  // ASCII (nearly every name; a lane's name need not be) a byte a unit, the rest through UTF-8's encoder.
  const ascii = writeAscii(src, <usize>units, out);
  nameLength += ascii == <usize>units ? ascii : ascii + String.UTF8.encodeUnsafe(src + (ascii << 1), units - <i32>ascii, out + ascii);
}

/** Defines the metric named `a + b + c` (parts, so callers need not concatenate). */
export function defineMetric(metricType: u32, a: string, b: string = "", c: string = ""): u32 {
  nameLength = 0;
  appendName(a);
  return defineMetricAfter(metricType, nameLength, b, c);
}

/** Defines the metric named by the first `keep` bytes written (a shared prefix) + `a + b`. */
export function defineMetricAfter(metricType: u32, keep: usize, a: string, b: string = ""): u32 {
  nameLength = keep;
  appendName(a);
  appendName(b);
  if (imp.proxy_define_metric(metricType, nameBuffer, nameLength, RET) != Status.OK) return u32.MAX_VALUE;
  return load<u32>(RET);
}
export function incrementMetric(id: u32, delta: i64): void {
  if (id != u32.MAX_VALUE) imp.proxy_increment_metric(id, delta);
}
export function recordMetric(id: u32, value: u64): void {
  if (id != u32.MAX_VALUE) imp.proxy_record_metric(id, value);
}

export function setTickPeriod(ms: u32): void { imp.proxy_set_tick_period_milliseconds(ms); }
