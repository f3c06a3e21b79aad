// The host functions: every `env` function Envoy links for an ABI 0.2.1 module and the WASI set
// it registers under wasi_snapshot_preview1 and wasi_unstable. Status codes and edge cases follow
// cpp-host src/exports.cc and Envoy's wasm Context. Every pointer/size the guest passes is an i32;
// `>>> 0` reads it as the u32 it is.
import { randomFillSync } from 'node:crypto';
import {
  BufferType,
  ENV_IMPORT_SIGNATURES,
  Limits,
  LOG_LEVELS,
  MapType,
  Status,
  StreamType,
  WASI_IMPORT_SIGNATURES,
  WasiErrno,
} from './abi.ts';
import { readPairs } from './pairs.ts';
import { resolveProperty } from './properties.ts';
import { HttpStream } from './stream.ts';
import { asciiLower, utf8Decode, utf8Encode } from './text.ts';
import { HostTrap, type HeaderMap, type Vm } from './vm.ts';
import { localReply } from './local-reply.ts';

type HostFn = (...args: never[]) => unknown;

export function createImports(vm: Vm): WebAssembly.Imports {
  const host = vm.host;
  const gm = vm.gm;
  const store = host.sharedStore;
  const vmId = host.plugin.vmId;
  const ctx = () => (vm.eff ?? vm.root)!;
  const stream = () => (vm.eff instanceof HttpStream ? vm.eff : undefined);

  /** Reads pairs the guest serialized; malformed → empty, as cpp-host (noted in the host log). */
  /** A host function with no service behind it here: the restriction check, then a fixed status. */
  const answers = (name: string, status: number) => (): number => {
    if (vm.restrict !== 0) vm.restricted(name);
    return status;
  };
  const pairsArg = (ptr: number, size: number, what: string): HeaderMap => {
    const p = readPairs(gm.buf, ptr, size);
    if (p === null) {
      host.hostLog(vm.index, 'warn', `${what}: malformed or oversized pairs buffer (${size} bytes) treated as empty, as cpp-host does`);
      return [];
    }
    for (let i = 0; i < p.length; i++) p[i]![0] = asciiLower(p[i]![0]);
    return p;
  };

  const env = {
    // ------------------------------------------------------------ logging, time, timers
    proxy_log(level: number, ptr: number, size: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_log');
      level >>>= 0;
      if (level > 5) return Status.BAD_ARGUMENT;
      gm.sync();
      const msg = gm.utf8(ptr >>> 0, size >>> 0);
      if (msg === null) return Status.INVALID_MEMORY_ACCESS;
      host.guestLog(vm.index, LOG_LEVELS[level]!, msg);
      return Status.OK;
    },
    proxy_get_log_level(retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_log_level');
      gm.sync();
      return gm.setU32(retPtr >>> 0, host.logLevelNum) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_get_current_time_nanoseconds(retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_current_time_nanoseconds');
      gm.sync();
      return gm.setU64(retPtr >>> 0, host.clock.nowNs()) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_tick_period_milliseconds(period: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_tick_period_milliseconds');
      vm.setTickPeriod(period >>> 0);
      return Status.OK;
    },

    // ------------------------------------------------------------ configuration, buffers
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, retPtr: number, retSize: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_buffer_bytes');
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
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_buffer_status');
      type >>>= 0;
      if (type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const b = ctx().getBuffer(type);
      if (b === null) return Status.NOT_FOUND;
      gm.sync();
      if (!gm.setU32(lenPtr >>> 0, b.length) || !gm.setU32(flagsPtr >>> 0, 0)) return Status.INVALID_MEMORY_ACCESS;
      return Status.OK;
    },
    proxy_set_buffer_bytes(type: number, start: number, len: number, ptr: number, size: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_buffer_bytes');
      type >>>= 0;
      if (type > BufferType.MAX) return Status.BAD_ARGUMENT;
      const c = ctx();
      if (c.getBuffer(type) === null) return Status.NOT_FOUND;
      gm.sync();
      const data = gm.copy(ptr >>> 0, size >>> 0);
      if (data === null) return Status.INVALID_MEMORY_ACCESS;
      return c.setBuffer(type, start >>> 0, len >>> 0, data);
    },

    // ------------------------------------------------------------ header maps
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_header_map_pairs');
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      const map = ctx().constMap(type);
      gm.sync();
      return gm.copyOutPairs(map ?? [], retPtr >>> 0, retSize >>> 0);
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_header_map_pairs');
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      ptr >>>= 0;
      size >>>= 0;
      gm.sync();
      if (!gm.ok(ptr, size)) return Status.INVALID_MEMORY_ACCESS;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      const pairs = pairsArg(ptr, size, 'proxy_set_header_map_pairs');
      map.length = 0;
      for (let i = 0; i < pairs.length; i++) map.push(pairs[i]!);
      return Status.OK;
    },
    proxy_get_header_map_size(type: number, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_header_map_size');
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
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_header_map_value');
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
    proxy_add_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_add_header_map_value');
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      gm.sync();
      const k = gm.byteString(kp >>> 0, ks >>> 0);
      const v = gm.byteString(vp >>> 0, vs >>> 0);
      if (k === null || v === null) return Status.INVALID_MEMORY_ACCESS;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      map.push([asciiLower(k), v]);
      return Status.OK;
    },
    proxy_replace_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_replace_header_map_value');
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      gm.sync();
      const k = gm.byteString(kp >>> 0, ks >>> 0);
      const v = gm.byteString(vp >>> 0, vs >>> 0);
      if (k === null || v === null) return Status.INVALID_MEMORY_ACCESS;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      // Envoy HeaderMap::setCopy: every entry of that name goes, one is added at the end.
      const key = asciiLower(k);
      removeAll(map, key);
      map.push([key, v]);
      return Status.OK;
    },
    proxy_remove_header_map_value(type: number, kp: number, ks: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_remove_header_map_value');
      type >>>= 0;
      if (type > MapType.MAX) return Status.BAD_ARGUMENT;
      gm.sync();
      const k = gm.byteString(kp >>> 0, ks >>> 0);
      if (k === null) return Status.INVALID_MEMORY_ACCESS;
      const map = ctx().mutMap(type);
      if (!map) return Status.BAD_ARGUMENT;
      removeAll(map, asciiLower(k));
      return Status.OK;
    },

    // ------------------------------------------------------------ stream control
    proxy_continue_stream(type: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_continue_stream');
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
      if (vm.restrict !== 0) vm.restricted('env.proxy_close_stream');
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
      if (vm.restrict !== 0) vm.restricted('env.proxy_send_local_response');
      gm.sync();
      const details = gm.utf8(dp >>> 0, ds >>> 0);
      const body = gm.copy(bp >>> 0, bs >>> 0);
      if (details === null || body === null || !gm.ok(hp >>> 0, hs >>> 0)) return Status.INVALID_MEMORY_ACCESS;
      const extra = pairsArg(hp >>> 0, hs >>> 0, 'proxy_send_local_response');
      vm.stopNext = true; // cpp-host stopNextIteration: the callback's return value is ignored
      const s = stream();
      if (s) s.localRequested(localReply({ status: code >>> 0, body, extra, details, grpcStatus: grpcStatus | 0, grpc: s.grpcRequest }));
      return Status.OK;
    },
    proxy_set_effective_context(id: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_effective_context');
      const c = vm.contexts.get(id >>> 0);
      if (!c) return Status.BAD_ARGUMENT;
      vm.eff = c;
      return Status.OK;
    },
    proxy_done(): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_done');
      return Status.NOT_FOUND; // no root context is waiting in pending-done
    },
    proxy_get_status(codePtr: number, msgPtr: number, msgSize: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_status');
      gm.sync();
      if (!gm.setU32(codePtr >>> 0, vm.callStatus.code)) return Status.INVALID_MEMORY_ACCESS;
      return gm.copyOut(utf8Encode(vm.callStatus.message), msgPtr >>> 0, msgSize >>> 0);
    },

    // ------------------------------------------------------------ properties
    proxy_get_property(pp: number, ps: number, retPtr: number, retSize: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_property');
      gm.sync();
      const path = gm.byteString(pp >>> 0, ps >>> 0);
      if (path === null) return Status.INVALID_MEMORY_ACCESS;
      const v = resolveProperty(path, host.plugin, stream() ?? null);
      if (v === null) return Status.NOT_FOUND;
      return typeof v === 'string' ? gm.copyOutByteString(v, retPtr >>> 0, retSize >>> 0) : gm.copyOut(v, retPtr >>> 0, retSize >>> 0);
    },
    proxy_set_property(pp: number, ps: number, vp: number, vs: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_property');
      gm.sync();
      const path = gm.byteString(pp >>> 0, ps >>> 0);
      const value = gm.copy(vp >>> 0, vs >>> 0);
      if (path === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      const s = stream();
      if (!s) return Status.NOT_FOUND; // no stream info on a root context
      (s.filterState ??= new Map()).set(path, value);
      return Status.OK;
    },

    // ------------------------------------------------------------ shared data and queues
    proxy_get_shared_data(kp: number, ks: number, retPtr: number, retSize: number, casPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_shared_data');
      gm.sync();
      const key = gm.byteString(kp >>> 0, ks >>> 0);
      if (key === null) return Status.INVALID_MEMORY_ACCESS;
      const e = store.get(vmId, key);
      if (!e) return Status.NOT_FOUND;
      const { value, cas } = e;
      const st = gm.copyOut(value, retPtr >>> 0, retSize >>> 0);
      if (st !== Status.OK) return st;
      return gm.setU32(casPtr >>> 0, cas) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_set_shared_data(kp: number, ks: number, vp: number, vs: number, cas: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_set_shared_data');
      gm.sync();
      const key = gm.byteString(kp >>> 0, ks >>> 0);
      const value = gm.copy(vp >>> 0, vs >>> 0);
      if (key === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      return store.set(vmId, key, value, cas >>> 0, true);
    },
    proxy_register_shared_queue(np: number, ns: number, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_register_shared_queue');
      gm.sync();
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      const token = host.queues.register(vmId, name, { notify: (t) => vm.queueReady(t) });
      return gm.setU32(retPtr >>> 0, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_resolve_shared_queue(vp: number, vs: number, np: number, ns: number, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_resolve_shared_queue');
      gm.sync();
      const id = gm.byteString(vp >>> 0, vs >>> 0);
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (id === null || name === null) return Status.INVALID_MEMORY_ACCESS;
      const token = host.queues.resolve(id === '' ? vmId : id, name);
      if (token === 0) return Status.NOT_FOUND;
      return gm.setU32(retPtr >>> 0, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_enqueue_shared_queue(token: number, vp: number, vs: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_enqueue_shared_queue');
      gm.sync();
      const value = gm.view(vp >>> 0, vs >>> 0);
      if (value === null) return Status.INVALID_MEMORY_ACCESS;
      return host.queues.enqueue(token >>> 0, value);
    },
    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_dequeue_shared_queue');
      const r = host.queues.dequeue(token >>> 0);
      if (typeof r === 'number') return r;
      gm.sync();
      return gm.copyOut(r, retPtr >>> 0, retSize >>> 0);
    },

    // ------------------------------------------------------------ metrics
    proxy_define_metric(type: number, np: number, ns: number, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_define_metric');
      gm.sync();
      const name = gm.byteString(np >>> 0, ns >>> 0);
      if (name === null) return Status.INVALID_MEMORY_ACCESS;
      const id = vm.metrics.define(type >>> 0, name);
      if (id < 0) return Status.BAD_ARGUMENT;
      return gm.setU32(retPtr >>> 0, id) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_increment_metric');
      return vm.metrics.increment(id >>> 0, BigInt.asIntN(64, delta));
    },
    proxy_record_metric(id: number, value: bigint): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_record_metric');
      return vm.metrics.record(id >>> 0, value);
    },
    proxy_get_metric(id: number, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_get_metric');
      const v = vm.metrics.get(id >>> 0);
      if (typeof v === 'number') return v;
      gm.sync();
      return gm.setU64(retPtr >>> 0, v) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },

    // ------------------------------------------------------------ callouts
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
      if (vm.restrict !== 0) vm.restricted('env.proxy_http_call');
      gm.sync();
      const cluster = gm.utf8(up >>> 0, us >>> 0);
      const body = gm.copy(bp >>> 0, bsz >>> 0);
      if (cluster === null || body === null || !gm.ok(hp >>> 0, hs >>> 0) || !gm.ok(tp >>> 0, ts >>> 0)) {
        return Status.INVALID_MEMORY_ACCESS;
      }
      const headers = pairsArg(hp >>> 0, hs >>> 0, 'proxy_http_call headers');
      const trailers = pairsArg(tp >>> 0, ts >>> 0, 'proxy_http_call trailers');
      if (!gm.setU32(retPtr >>> 0, 0)) return Status.INVALID_MEMORY_ACCESS;
      const [status, token] = vm.httpCall(cluster, headers, body, trailers, timeoutMs | 0);
      gm.sync();
      gm.setU32(retPtr >>> 0, token);
      return status;
    },
    // No gRPC services here: a service that is neither a GrpcService proto nor a known cluster is
    // a PARSE_FAILURE in Envoy; unknown call/stream tokens are NOT_FOUND.
    proxy_grpc_call: answers('env.proxy_grpc_call', Status.PARSE_FAILURE),
    proxy_grpc_stream: answers('env.proxy_grpc_stream', Status.PARSE_FAILURE),
    proxy_grpc_send: answers('env.proxy_grpc_send', Status.NOT_FOUND),
    proxy_grpc_cancel: answers('env.proxy_grpc_cancel', Status.NOT_FOUND),
    proxy_grpc_close: answers('env.proxy_grpc_close', Status.NOT_FOUND),
    proxy_call_foreign_function(np: number, ns: number, ap: number, as: number): number {
      if (vm.restrict !== 0) vm.restricted('env.proxy_call_foreign_function');
      gm.sync();
      if (!gm.ok(np >>> 0, ns >>> 0) || !gm.ok(ap >>> 0, as >>> 0)) return Status.INVALID_MEMORY_ACCESS;
      return Status.NOT_FOUND; // no foreign functions registered
    },

    // ------------------------------------------------------------ emscripten helpers cpp-host links
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
    emscripten_notify_memory_growth(_index: number): void {
      gm.sync();
    },
  };

  const wasi = {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('fd_write');
      const level = fd === 1 ? 'info' : fd === 2 ? 'error' : undefined;
      if (!level) return WasiErrno.BADF;
      gm.sync();
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const base = (iovs >>> 0) + i * 8;
        const p = gm.getU32(base);
        const l = gm.getU32(base + 4);
        if (p === null || l === null) return WasiErrno.FAULT;
        if (l === 0) continue;
        const v = gm.view(p, l);
        if (v === null) return WasiErrno.FAULT;
        parts.push(v);
        total += l;
      }
      if (total !== 0) {
        const all = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        let text = utf8Decode(all);
        if (text.endsWith('\n')) text = text.slice(0, -1);
        host.guestLog(vm.index, level, text);
      }
      return gm.setU32(nwrittenPtr >>> 0, total) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    fd_read(): number {
      if (vm.restrict !== 0) vm.restricted('fd_read');
      return WasiErrno.NOSYS;
    },
    fd_seek(): number {
      if (vm.restrict !== 0) vm.restricted('fd_seek');
      host.hostLog(vm.index, 'error', 'wasi_unstable fd_seek');
      return WasiErrno.SUCCESS;
    },
    fd_close(): number {
      if (vm.restrict !== 0) vm.restricted('fd_close');
      host.hostLog(vm.index, 'error', 'wasi_unstable fd_close');
      return WasiErrno.SUCCESS;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('fd_fdstat_get');
      if (fd !== 1 && fd !== 2) return WasiErrno.BADF;
      gm.sync();
      const p = statPtr >>> 0;
      if (!gm.ok(p, 24)) return WasiErrno.FAULT;
      gm.dv.setBigUint64(p, 0n, true);
      gm.dv.setBigUint64(p + 8, 64n, true); // fs_rights_base = FD_WRITE
      gm.dv.setBigUint64(p + 16, 0n, true);
      return WasiErrno.SUCCESS;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      if (vm.restrict !== 0) vm.restricted('environ_sizes_get');
      gm.sync();
      let size = 0;
      for (const e of host.environ) size += e.length;
      if (!gm.setU32(countPtr >>> 0, host.environ.length) || !gm.setU32(sizePtr >>> 0, size)) return WasiErrno.FAULT;
      return WasiErrno.SUCCESS;
    },
    environ_get(arrPtr: number, bufPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('environ_get');
      gm.sync();
      let a = arrPtr >>> 0;
      let b = bufPtr >>> 0;
      for (const e of host.environ) {
        if (!gm.setU32(a, b) || !gm.ok(b, e.length)) return WasiErrno.FAULT;
        gm.u8.set(e, b);
        a += 4;
        b += e.length;
      }
      return WasiErrno.SUCCESS;
    },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      if (vm.restrict !== 0) vm.restricted('args_sizes_get');
      gm.sync();
      return gm.setU32(argcPtr >>> 0, 0) && gm.setU32(sizePtr >>> 0, 0) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    args_get(): number {
      if (vm.restrict !== 0) vm.restricted('args_get');
      return WasiErrno.SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, retPtr: number): number {
      if (vm.restrict !== 0) vm.restricted('clock_time_get');
      let t: bigint;
      if (id === 0) t = host.clock.nowNs();
      else if (id === 1) t = host.monotonicNs();
      else return WasiErrno.NOTSUP;
      gm.sync();
      return gm.setU64(retPtr >>> 0, t) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    random_get(ptr: number, len: number): number {
      if (vm.restrict !== 0) vm.restricted('random_get');
      len >>>= 0;
      if (len > Limits.RANDOM_GET_MAX_BYTES) return WasiErrno.INVAL;
      if (len === 0) return WasiErrno.SUCCESS;
      gm.sync();
      if (!gm.ok(ptr >>> 0, len)) return WasiErrno.FAULT;
      randomFillSync(gm.u8, ptr >>> 0, len);
      return WasiErrno.SUCCESS;
    },
    proc_exit(code: number): void {
      if (vm.restrict !== 0) vm.restricted('proc_exit');
      // cpp-host only logs; the AS runtime then hits `unreachable`. Trapping here says where.
      throw new HostTrap(`proc_exit(${code}) called`);
    },
    path_open(): number {
      if (vm.restrict !== 0) vm.restricted('path_open');
      return WasiErrno.NOENT;
    },
    fd_prestat_get(): number {
      if (vm.restrict !== 0) vm.restricted('fd_prestat_get');
      return WasiErrno.BADF;
    },
    fd_prestat_dir_name(): number {
      if (vm.restrict !== 0) vm.restricted('fd_prestat_dir_name');
      return WasiErrno.NOSYS;
    },
  };

  // Keep the implemented sets and the declared sets identical.
  for (const n of Object.keys(ENV_IMPORT_SIGNATURES)) if (!(n in env)) throw new Error(`host bug: env.${n} missing`);
  for (const n of Object.keys(WASI_IMPORT_SIGNATURES)) if (!(n in wasi)) throw new Error(`host bug: ${n} missing`);

  let envOut: Record<string, HostFn> = env;
  let wasiOut: Record<string, HostFn> = wasi;
  if (host.recordCalls) {
    const wrap = (mod: Record<string, HostFn>, prefix: string) =>
      Object.fromEntries(
        Object.entries(mod).map(([name, f]) => [
          name,
          (...args: (number | bigint)[]) => {
            const call = { vm: vm.index, name: prefix + name, args, result: undefined as number | bigint | undefined };
            host.calls.push(call);
            call.result = (f as (...a: (number | bigint)[]) => number | bigint | undefined)(...args);
            return call.result;
          },
        ]),
      ) as Record<string, HostFn>;
    envOut = wrap(env, 'env.');
    wasiOut = wrap(wasi, '');
  }
  return { env: envOut, wasi_snapshot_preview1: wasiOut, wasi_unstable: wasiOut };
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

