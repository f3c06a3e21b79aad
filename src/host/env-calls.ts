// The `env` host functions Envoy links for an ABI 0.2.1 module, by concern. Status codes and edge
// cases follow cpp-host src/exports.cc and Envoy's wasm Context. Every pointer/size the guest passes
// is an i32; `>>> 0` reads it as the u32 it is. The restriction guard is not written here:
// imports.ts adds it to each function from cpp-host's allow lists.
import { BufferType, LOG_LEVELS, MapType, Status, StreamType } from './abi.ts';
import type { GuestContext, HeaderMap, StreamGuestContext } from './context.ts';
import { localReply } from './local-reply.ts';
import { ByteStringCache } from './memory.ts';
import { readPairs } from './pairs.ts';
import { resolveProperty } from './properties.ts';
import { asciiLower, utf8Encode } from './text.ts';
import type { Vm } from './vm.ts';

/** The context a host call acts for: the callback's, or the one set_effective_context chose. */
const effectiveContext = (vm: Vm): GuestContext => vm.eff ?? vm.root;

/** The effective context if it is a stream. */
const effectiveStream = (vm: Vm): StreamGuestContext | undefined => {
  const c = vm.eff;
  return c !== undefined && !c.isRoot ? c : undefined;
};

/** Reads pairs the guest serialized; malformed → empty, as cpp-host (noted in the host log). */
function pairsArg(vm: Vm, ptr: number, size: number, what: string): HeaderMap {
  const p = readPairs(vm.gm.buf, ptr, size);
  if (p === null) {
    vm.proc.hostLog(vm.index, 'warn', `${what}: malformed or oversized pairs buffer (${size} bytes) treated as empty, as cpp-host does`);
    return [];
  }
  for (let i = 0; i < p.length; i++) p[i]![0] = asciiLower(p[i]![0]);
  return p;
}

/** A host function with no service behind it here: a fixed status. */
const fixed = (status: number) => (): number => status;

/** Every env function, by name (without the `env.` prefix). */
export function envCalls(vm: Vm) {
  return {
    ...loggingAndTime(vm),
    ...buffers(vm),
    ...headerMapReads(vm),
    ...headerMapWrites(vm),
    ...streamControl(vm),
    ...properties(vm),
    ...sharedDataAndQueues(vm),
    ...metrics(vm),
    ...callouts(vm),
  };
}

/**
 * The two emscripten helpers cpp-host links for every module, not behind the guard in this host.
 * cpp-host's V8 runtime guards them like every import: pthread_equal traps during _initialize
 * there, and emscripten_notify_memory_growth did too before cpp-host #461 allowed it.
 */
export function emscriptenCalls(vm: Vm) {
  const gm = vm.gm;
  return {
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
    emscripten_notify_memory_growth(_index: number): void {
      gm.sync();
    },
  };
}

/** Logging, time, timers. */
function loggingAndTime(vm: Vm) {
  const gm = vm.gm;
  const proc = vm.proc;
  return {
    proxy_log(level: number, ptr: number, size: number): number {
      level >>>= 0;
      if (level > 5) return Status.BAD_ARGUMENT;
      gm.sync();
      const msg = gm.utf8(ptr >>> 0, size >>> 0);
      if (msg === null) return Status.INVALID_MEMORY_ACCESS;
      proc.guestLog(vm.index, LOG_LEVELS[level]!, msg);
      return Status.OK;
    },
    proxy_get_log_level(retPtr: number): number {
      gm.sync();
      return gm.setU32(retPtr >>> 0, proc.logLevelNum) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_get_current_time_nanoseconds(retPtr: number): number {
      gm.sync();
      return gm.setU64(retPtr >>> 0, proc.clock.nowNs()) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_tick_period_milliseconds(period: number): number {
      vm.setTickPeriod(period >>> 0);
      return Status.OK;
    },
  };
}

/** Configuration and body buffers. */
function buffers(vm: Vm) {
  const gm = vm.gm;
  const ctx = () => effectiveContext(vm);
  return {
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, retPtr: number, retSize: number): number {
      type >>>= 0;
      start >>>= 0;
      maxSize >>>= 0;
      if (type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const b = ctx().getBuffer(type);
      if (b === null) return Status.NOT_FOUND;
      let len = maxSize;
      if (start > b.length) len = 0;
      else if (start + len > b.length) len = b.length - start;
      gm.sync();
      return gm.copyOut(len === b.length ? b : b.subarray(start, start + len), retPtr >>> 0, retSize >>> 0);
    },
    proxy_get_buffer_status(type: number, lenPtr: number, flagsPtr: number): number {
      type >>>= 0;
      if (type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const b = ctx().getBuffer(type);
      if (b === null) return Status.NOT_FOUND;
      gm.sync();
      if (!gm.setU32(lenPtr >>> 0, b.length) || !gm.setU32(flagsPtr >>> 0, 0)) return Status.INVALID_MEMORY_ACCESS;
      return Status.OK;
    },
    proxy_set_buffer_bytes(type: number, start: number, len: number, ptr: number, size: number): number {
      type >>>= 0;
      if (type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const c = ctx();
      if (c.getBuffer(type) === null) return Status.NOT_FOUND;
      gm.sync();
      const data = gm.copy(ptr >>> 0, size >>> 0);
      if (data === null) return Status.INVALID_MEMORY_ACCESS;
      return c.setBuffer(type, start >>> 0, len >>> 0, data);
    },
  };
}

/** Reading header maps. */
function headerMapReads(vm: Vm) {
  const gm = vm.gm;
  const ctx = () => effectiveContext(vm);
  return {
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      const map = ctx().constMap(type);
      gm.sync();
      return gm.copyOutPairs(map ?? [], retPtr >>> 0, retSize >>> 0);
    },
    proxy_get_header_map_size(type: number, retPtr: number): number {
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      let bytes = 0; // Envoy: HeaderMap::byteSize(), the sum of name and value lengths
      for (let i = 0; i < map.length; i++) bytes += map[i]![0].length + map[i]![1].length;
      gm.sync();
      return gm.setU32(retPtr >>> 0, bytes) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_get_header_map_value(type: number, kp: number, ks: number, retPtr: number, retSize: number): number {
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      kp >>>= 0;
      ks >>>= 0;
      gm.sync();
      if (!gm.ok(kp, ks)) return Status.INVALID_MEMORY_ACCESS;
      const c = ctx();
      const map = c.constMap(type);
      // Envoy: no map now → BAD_ARGUMENT, except in the access-log phase (NOT_FOUND).
      if (!map) return c.accessLog ? Status.NOT_FOUND : Status.BAD_ARGUMENT;
      const i = findHeader(map, gm.u8, kp, ks);
      if (i < 0) return Status.NOT_FOUND;
      return gm.copyOutByteString(map[i]![1], retPtr >>> 0, retSize >>> 0);
    },
  };
}

const enum Edit {
  ADD,
  REPLACE,
  REMOVE,
}

/** Changing header maps. */
function headerMapWrites(vm: Vm) {
  const gm = vm.gm;
  const ctx = () => effectiveContext(vm);
  /**
   * What add, replace and remove share, in Envoy's order: the map type checked, the name (and the
   * value) read from guest memory, the map there now found, then the edit with the name lowercased
   * (an Edit, not a closure per call). Envoy HeaderMap::setCopy (replace): every entry of that name
   * goes, one is added at the end.
   */
  const editMap = (edit: Edit, type: number, kp: number, ks: number, vp: number, vs: number): number => {
    type >>>= 0;
    if (type > MapType.MAX) return Status.BAD_ARGUMENT;
    gm.sync();
    const k = gm.byteString(kp >>> 0, ks >>> 0);
    const v = edit === Edit.REMOVE ? '' : gm.byteString(vp >>> 0, vs >>> 0);
    if (k === null || v === null) return Status.INVALID_MEMORY_ACCESS;
    const map = ctx().mutMap(type);
    if (!map) return Status.BAD_ARGUMENT;
    const key = asciiLower(k);
    if (edit !== Edit.ADD) removeAll(map, key);
    if (edit !== Edit.REMOVE) map.push([key, v]);
    return Status.OK;
  };
  return {
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      ptr >>>= 0;
      size >>>= 0;
      gm.sync();
      if (!gm.ok(ptr, size)) return Status.INVALID_MEMORY_ACCESS;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      const pairs = pairsArg(vm, ptr, size, 'proxy_set_header_map_pairs');
      map.length = 0;
      for (let i = 0; i < pairs.length; i++) map.push(pairs[i]!);
      return Status.OK;
    },
    proxy_add_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      return editMap(Edit.ADD, type, kp, ks, vp, vs);
    },
    proxy_replace_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      return editMap(Edit.REPLACE, type, kp, ks, vp, vs);
    },
    proxy_remove_header_map_value(type: number, kp: number, ks: number): number {
      return editMap(Edit.REMOVE, type, kp, ks, 0, 0);
    },
  };
}

/** Stream control: continue, close, local replies, the effective context, call status. */
function streamControl(vm: Vm) {
  const gm = vm.gm;
  const stream = () => effectiveStream(vm);
  return {
    proxy_continue_stream(type: number): number {
      type >>>= 0;
      if (type > StreamType.MAX) return Status.BAD_ARGUMENT;
      if (type === StreamType.UPSTREAM) return Status.UNIMPLEMENTED;
      if (type === StreamType.DOWNSTREAM) return Status.OK; // no network filter callbacks here
      const s = stream();
      if (s) s.continueRequested(type === StreamType.HTTP_REQUEST ? 'request' : 'response');
      else vm.spuriousResumes++; // a root context has no stream to continue: Envoy does nothing
      return Status.OK;
    },
    proxy_close_stream(type: number): number {
      type >>>= 0;
      if (type > StreamType.MAX) return Status.BAD_ARGUMENT;
      const s = stream();
      if (s && type <= StreamType.HTTP_RESPONSE) s.closeRequested();
      return Status.OK;
    },
    proxy_send_local_response(
      code: number,
      dp: number,
      ds: number,
      bp: number,
      bs: number,
      hp: number,
      hs: number,
      grpcStatus: number,
    ): number {
      gm.sync();
      const details = gm.utf8(dp >>> 0, ds >>> 0);
      const body = gm.copy(bp >>> 0, bs >>> 0);
      if (details === null || body === null || !gm.ok(hp >>> 0, hs >>> 0)) return Status.INVALID_MEMORY_ACCESS;
      const extra = pairsArg(vm, hp >>> 0, hs >>> 0, 'proxy_send_local_response');
      vm.stopNext = true; // cpp-host stopNextIteration: the callback's return value is ignored
      const s = stream();
      if (s) s.localRequested(localReply({ status: code >>> 0, body, extra, details, grpcStatus: grpcStatus | 0, grpc: s.grpcRequest }));
      return Status.OK;
    },
    proxy_set_effective_context(id: number): number {
      const c = vm.contexts.get(id >>> 0);
      if (!c) return Status.BAD_ARGUMENT;
      vm.eff = c;
      return Status.OK;
    },
    proxy_done(): number {
      return Status.NOT_FOUND; // no root context is waiting in pending-done
    },
    proxy_get_status(codePtr: number, msgPtr: number, msgSize: number): number {
      gm.sync();
      if (!gm.setU32(codePtr >>> 0, vm.callStatus.code)) return Status.INVALID_MEMORY_ACCESS;
      return gm.copyOut(utf8Encode(vm.callStatus.message), msgPtr >>> 0, msgSize >>> 0);
    },
  };
}

/** Properties (stream info, plugin, filter state). */
function properties(vm: Vm) {
  const gm = vm.gm;
  const plugin = vm.proc.plugin;
  const stream = () => effectiveStream(vm);
  const lastPath = new ByteStringCache(); // a filter reads the same few properties on every request
  return {
    proxy_get_property(pp: number, ps: number, retPtr: number, retSize: number): number {
      gm.sync();
      const path = gm.byteStringCached(pp >>> 0, ps >>> 0, lastPath);
      if (path === null) return Status.INVALID_MEMORY_ACCESS;
      const v = resolveProperty(path, plugin, stream() ?? null);
      if (v === null) return Status.NOT_FOUND;
      return typeof v === 'string' ? gm.copyOutByteString(v, retPtr >>> 0, retSize >>> 0) : gm.copyOut(v, retPtr >>> 0, retSize >>> 0);
    },
    proxy_set_property(pp: number, ps: number, vp: number, vs: number): number {
      gm.sync();
      const path = gm.byteString(pp >>> 0, ps >>> 0);
      const value = gm.copy(vp >>> 0, vs >>> 0);
      if (path === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      const s = stream();
      if (!s) return Status.NOT_FOUND; // no stream info on a root context
      (s.filterState ??= new Map()).set(path, value);
      return Status.OK;
    },
  };
}

/** Shared data and shared queues (one store per process, namespaced by vm_id). */
function sharedDataAndQueues(vm: Vm) {
  const gm = vm.gm;
  const proc = vm.proc;
  const store = proc.sharedStore;
  const vmId = proc.plugin.vmId;
  const lastKey = new ByteStringCache(); // a decision reads a record, then CAS-writes it
  const keyAt = (kp: number, ks: number): string | null => gm.byteStringCached(kp >>> 0, ks >>> 0, lastKey);
  return {
    proxy_get_shared_data(kp: number, ks: number, retPtr: number, retSize: number, casPtr: number): number {
      gm.sync();
      const key = keyAt(kp, ks);
      if (key === null) return Status.INVALID_MEMORY_ACCESS;
      const e = store.get(vmId, key);
      if (!e) return Status.NOT_FOUND;
      const { value, cas } = e;
      const st = gm.copyOut(value, retPtr >>> 0, retSize >>> 0);
      if (st !== Status.OK) return st;
      return gm.setU32(casPtr >>> 0, cas) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_shared_data(kp: number, ks: number, vp: number, vs: number, cas: number): number {
      gm.sync();
      const key = keyAt(kp, ks);
      const value = gm.view(vp >>> 0, vs >>> 0); // the store copies it (into the stored buffer when it fits)
      if (key === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      return store.set(vmId, key, value, cas >>> 0);
    },
    proxy_register_shared_queue(np: number, ns: number, retPtr: number): number {
      gm.sync();
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      const token = proc.queues.register(vmId, name, { notify: (t) => vm.queueReady(t) });
      return gm.setU32(retPtr >>> 0, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_resolve_shared_queue(vp: number, vs: number, np: number, ns: number, retPtr: number): number {
      gm.sync();
      const id = gm.byteString(vp >>> 0, vs >>> 0);
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (id === null || name === null) return Status.INVALID_MEMORY_ACCESS;
      const token = proc.queues.resolve(id === '' ? vmId : id, name);
      if (token === 0) return Status.NOT_FOUND;
      return gm.setU32(retPtr >>> 0, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_enqueue_shared_queue(token: number, vp: number, vs: number): number {
      gm.sync();
      const value = gm.view(vp >>> 0, vs >>> 0);
      if (value === null) return Status.INVALID_MEMORY_ACCESS;
      return proc.queues.enqueue(token >>> 0, value);
    },
    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number): number {
      const r = proc.queues.dequeue(token >>> 0);
      if (typeof r === 'number') return r;
      gm.sync();
      return gm.copyOut(r, retPtr >>> 0, retSize >>> 0);
    },
  };
}

/** Metrics. */
function metrics(vm: Vm) {
  const gm = vm.gm;
  return {
    proxy_define_metric(type: number, np: number, ns: number, retPtr: number): number {
      gm.sync();
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      const id = vm.metrics.define(type >>> 0, name);
      if (id < 0) return Status.BAD_ARGUMENT;
      return gm.setU32(retPtr >>> 0, id) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      return vm.metrics.increment(id >>> 0, BigInt.asIntN(64, delta));
    },
    proxy_record_metric(id: number, value: bigint): number {
      return vm.metrics.record(id >>> 0, value);
    },
    proxy_get_metric(id: number, retPtr: number): number {
      const v = vm.metrics.get(id >>> 0);
      if (typeof v === 'number') return v;
      gm.sync();
      return gm.setU64(retPtr >>> 0, v) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
  };
}

/** Callouts: http calls; no gRPC services or foreign functions. */
function callouts(vm: Vm) {
  const gm = vm.gm;
  return {
    proxy_http_call(
      up: number,
      us: number,
      hp: number,
      hs: number,
      bp: number,
      bsz: number,
      tp: number,
      ts: number,
      timeoutMs: number,
      retPtr: number,
    ): number {
      gm.sync();
      const cluster = gm.utf8(up >>> 0, us >>> 0);
      const body = gm.copy(bp >>> 0, bsz >>> 0);
      if (cluster === null || body === null || !gm.ok(hp >>> 0, hs >>> 0) || !gm.ok(tp >>> 0, ts >>> 0)) {
        return Status.INVALID_MEMORY_ACCESS;
      }
      const headers = pairsArg(vm, hp >>> 0, hs >>> 0, 'proxy_http_call headers');
      const trailers = pairsArg(vm, tp >>> 0, ts >>> 0, 'proxy_http_call trailers');
      if (!gm.setU32(retPtr >>> 0, 0)) return Status.INVALID_MEMORY_ACCESS;
      const [status, token] = vm.httpCall(cluster, headers, body, trailers, timeoutMs | 0);
      gm.sync();
      gm.setU32(retPtr >>> 0, token);
      return status;
    },
    // No gRPC services here: a service that is neither a GrpcService proto nor a known cluster is
    // a PARSE_FAILURE in Envoy; unknown call/stream tokens are NOT_FOUND.
    proxy_grpc_call: fixed(Status.PARSE_FAILURE),
    proxy_grpc_stream: fixed(Status.PARSE_FAILURE),
    proxy_grpc_send: fixed(Status.NOT_FOUND),
    proxy_grpc_cancel: fixed(Status.NOT_FOUND),
    proxy_grpc_close: fixed(Status.NOT_FOUND),
    proxy_call_foreign_function(np: number, ns: number, ap: number, as: number): number {
      gm.sync();
      if (!gm.ok(np >>> 0, ns >>> 0) || !gm.ok(ap >>> 0, as >>> 0)) return Status.INVALID_MEMORY_ACCESS;
      return Status.NOT_FOUND; // no foreign functions registered
    },
  };
}

/** Index of the first entry whose name equals the guest's key bytes, ASCII-lower-cased; -1 if none. */
function findHeader(map: HeaderMap, u8: Uint8Array, ptr: number, len: number): number {
  outer: for (let i = 0; i < map.length; i++) {
    const k = map[i]![0];
    if (k.length !== len) continue;
    for (let j = 0; j < len; j++) {
      let b = u8[ptr + j]!;
      if (b >= 65 && b <= 90) b += 32;
      if (k.charCodeAt(j) !== b) continue outer;
    }
    return i;
  }
  return -1;
}

function removeAll(map: HeaderMap, key: string): void {
  let w = 0;
  for (let r = 0; r < map.length; r++) if (map[r]![0] !== key) map[w++] = map[r]!;
  map.length = w;
}

