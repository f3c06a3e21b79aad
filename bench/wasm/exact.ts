// A benchmark module, never shipped: the host calls an exact, shared decision cannot do without, and
// nothing else — the floor of an exact design (bench/README "Why not 3 host calls"). Its plugin
// configuration names the case:
//   "ratelimit": at the request, the path, the clock, one read of the resource's record and one
//                compare-and-swap write of it (4 calls; a 160-byte record, as sergo's for one rule);
//   "allfour":   those 4 (a 400-byte record, as sergo's for the four strategies), at the response
//                its :status and the clock, at the stream's end one more read and write (8 calls).
// The values are never looked at: what is left between this module and sergo is sergo's own work.
import "../../assembly/abi/abort";
import {
  Bytes, MapType, RootContext, StreamContext, BufferType, getHeader, hostCas, hostSize, hostPtr, nowMs, readBuffer,
  setRootContextFactory, sharedGet, sharedSet, Status,
} from "../../assembly/abi";
export { proxy_abi_version_0_2_1, proxy_on_context_create, proxy_on_vm_start, proxy_on_configure,
  proxy_on_tick, proxy_on_request_headers, proxy_on_response_headers, proxy_on_log,
  proxy_on_delete } from "../../assembly/abi/exports";
export { malloc, proxy_on_memory_allocate } from "../../assembly/abi/memory";

const PATH = new Bytes(":path");
const STATUS = new Bytes(":status");
const KEY = new Bytes("sergo:r:0123456789a"); // 19 bytes, as sergo's record keys
const RECORD_BYTES: i32 = 400;
const RECORD = memory.data(RECORD_BYTES, 8);

let allFour = false;
let recordSize: usize = 160;
let sink: i64 = 0;

/** One read of the record and one compare-and-swap write of it. */
function readAndWrite(): void {
  const cas = sharedGet(KEY.ptr, KEY.length) == Status.OK ? hostCas() : 0;
  sharedSet(KEY.ptr, KEY.length, RECORD, recordSize, cas);
}

class ExactStream extends StreamContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) == Status.OK) sink += <i64>hostSize();
    sink += nowMs();
    readAndWrite();
    return 0;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (!allFour) return 0;
    if (getHeader(MapType.HTTP_RESPONSE_HEADERS, STATUS) == Status.OK) sink += <i64>hostSize();
    sink += nowMs();
    return 0;
  }
  onLog(): void {
    if (allFour) readAndWrite();
  }
}

class ExactRoot extends RootContext {
  onConfigure(size: usize): bool {
    if (readBuffer(BufferType.PLUGIN_CONFIGURATION, size) != Status.OK) return false;
    const text = String.UTF8.decodeUnsafe(hostPtr(), hostSize()).trim();
    if (text != "ratelimit" && text != "allfour") return false;
    allFour = text == "allfour";
    recordSize = allFour ? <usize>RECORD_BYTES : 160;
    sharedSet(KEY.ptr, KEY.length, RECORD, recordSize, 0);
    return true;
  }
  // A new context per stream, as the empty module's: the difference to it is the calls alone.
  newStream(id: u32): StreamContext { return new ExactStream(); }
}

setRootContextFactory((id: u32): RootContext => new ExactRoot());
