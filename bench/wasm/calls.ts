// A benchmark module, never shipped: what one host call of each kind costs in the host running it.
// Its plugin configuration is "<kind> <count>"; every request's headers callback then makes
// <count> calls of that kind and nothing else (the empty module's bindings, so "none 0" is the
// floor). bench/envoy-calls.ts measures it in real Envoy: (CPU per request with 64 calls − with 0) ÷ 64.
import "../../assembly/abi/abort";
import {
  Bytes, MapType, MetricType, RootContext, StreamContext, BufferType, defineMetric, getHeader,
  hostPtr, hostSize, hostCas, incrementMetric, nowMs, readBuffer, releaseHostBuffer, setRootContextFactory,
  sharedGet, sharedSet, Status,
} from "../../assembly/abi";
export { proxy_abi_version_0_2_1, proxy_on_context_create, proxy_on_vm_start, proxy_on_configure,
  proxy_on_tick, proxy_on_request_headers, proxy_on_response_headers, proxy_on_log, proxy_on_done,
  proxy_on_delete } from "../../assembly/abi/exports";
export { malloc, proxy_on_memory_allocate } from "../../assembly/abi/memory";

const enum Kind { None, Clock, Header, Get, GetCasSet, Metric, Status, LogPair }
const KINDS = ["none", "clock", "header", "get", "getcasset", "metric", "status", "logpair"];
const PATH = new Bytes(":path");
const STATUS = new Bytes(":status");
const KEY = new Bytes("bench:calls");
const VALUE = new Bytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

let kind: i32 = Kind.None;
let count: i32 = 0;
let metric: u32 = 0;
let sink: i64 = 0;

// "status" reads :status in the response headers' callback and "logpair" makes the pair at the
// stream's end (on_log), where sergo's ConcurrencyLimit and CircuitBreaker release and record.
class CallsStream extends StreamContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (kind != Kind.Status && kind != Kind.LogPair) for (let i = 0; i < count; i++) call();
    return 0;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (kind == Kind.Status) {
      for (let i = 0; i < count; i++) if (getHeader(MapType.HTTP_RESPONSE_HEADERS, STATUS) == Status.OK) sink += <i64>hostSize();
    }
    return 0;
  }
  onLog(): void {
    if (kind == Kind.LogPair) for (let i = 0; i < count; i++) pair();
  }
}

function pair(): void {
  const cas = sharedGet(KEY.ptr, KEY.length) == Status.OK ? hostCas() : 0;
  sharedSet(KEY.ptr, KEY.length, VALUE.ptr, VALUE.length, cas);
}

function call(): void {
  if (kind == Kind.Clock) sink += nowMs();
  else if (kind == Kind.Header) { if (getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) == Status.OK) sink += <i64>hostSize(); }
  else if (kind == Kind.Get) { if (sharedGet(KEY.ptr, KEY.length) == Status.OK) { sink += <i64>hostSize(); releaseHostBuffer(hostPtr()); } }
  else if (kind == Kind.GetCasSet) pair();
  else if (kind == Kind.Metric) incrementMetric(metric, 1);
}

class CallsRoot extends RootContext {
  private stream: CallsStream = new CallsStream();
  onConfigure(size: usize): bool {
    if (readBuffer(BufferType.PLUGIN_CONFIGURATION, size) != Status.OK) return false;
    const text = String.UTF8.decodeUnsafe(hostPtr(), hostSize()).trim();
    const space = text.indexOf(" ");
    if (space < 0) return false;
    kind = KINDS.indexOf(text.substring(0, space));
    count = I32.parseInt(text.substring(space + 1));
    if (kind < 0) return false;
    metric = defineMetric(MetricType.COUNTER, "bench.calls");
    sharedSet(KEY.ptr, KEY.length, VALUE.ptr, VALUE.length, 0);
    return true;
  }
  newStream(id: u32): StreamContext { return this.stream; }
}

setRootContextFactory((id: u32): RootContext => new CallsRoot());
