// The WASI functions Envoy registers under wasi_snapshot_preview1 and wasi_unstable: what a module
// compiled for WASI calls (stdout/stderr as the log, the clocks, random bytes, the environment).
// There is no file system. imports.ts adds the restriction guard.
import { randomFillSync } from 'node:crypto';
import { Limits, WasiErrno } from './abi.ts';
import { HostTrap } from './context.ts';
import { utf8Decode } from './text.ts';
import type { Vm } from './vm.ts';

/** Every WASI function, by name. */
export function wasiCalls(vm: Vm) {
  return { ...wasiFiles(vm), ...wasiEnvironment(vm) };
}

/** stdout and stderr (the log); no other descriptors, no directories. */
function wasiFiles(vm: Vm) {
  const gm = vm.gm;
  const proc = vm.proc;
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
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
        proc.guestLog(vm.index, level, text);
      }
      return gm.setU32(nwrittenPtr >>> 0, total) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    fd_read(): number {
      return WasiErrno.NOSYS;
    },
    fd_seek(): number {
      proc.hostLog(vm.index, 'error', 'wasi_unstable fd_seek');
      return WasiErrno.SUCCESS;
    },
    fd_close(): number {
      proc.hostLog(vm.index, 'error', 'wasi_unstable fd_close');
      return WasiErrno.SUCCESS;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BADF;
      gm.sync();
      const p = statPtr >>> 0;
      if (!gm.ok(p, 24)) return WasiErrno.FAULT;
      gm.dv.setBigUint64(p, 0n, true);
      gm.dv.setBigUint64(p + 8, 64n, true); // fs_rights_base = FD_WRITE
      gm.dv.setBigUint64(p + 16, 0n, true);
      return WasiErrno.SUCCESS;
    },
    path_open(): number {
      return WasiErrno.NOENT;
    },
    fd_prestat_get(): number {
      return WasiErrno.BADF;
    },
    fd_prestat_dir_name(): number {
      return WasiErrno.NOSYS;
    },
  };
}

/** Environment variables, arguments (none), clocks, random bytes, exit. */
function wasiEnvironment(vm: Vm) {
  const gm = vm.gm;
  const proc = vm.proc;
  return {
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      gm.sync();
      let size = 0;
      for (const e of proc.environ) size += e.length;
      if (!gm.setU32(countPtr >>> 0, proc.environ.length) || !gm.setU32(sizePtr >>> 0, size)) return WasiErrno.FAULT;
      return WasiErrno.SUCCESS;
    },
    environ_get(arrPtr: number, bufPtr: number): number {
      gm.sync();
      let a = arrPtr >>> 0;
      let b = bufPtr >>> 0;
      for (const e of proc.environ) {
        if (!gm.setU32(a, b) || !gm.ok(b, e.length)) return WasiErrno.FAULT;
        gm.u8.set(e, b);
        a += 4;
        b += e.length;
      }
      return WasiErrno.SUCCESS;
    },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      gm.sync();
      return gm.setU32(argcPtr >>> 0, 0) && gm.setU32(sizePtr >>> 0, 0) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    args_get(): number {
      return WasiErrno.SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, retPtr: number): number {
      let t: bigint;
      if (id === 0) t = proc.clock.nowNs();
      else if (id === 1) t = proc.monotonicNs();
      else return WasiErrno.NOTSUP;
      gm.sync();
      return gm.setU64(retPtr >>> 0, t) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
    random_get(ptr: number, len: number): number {
      len >>>= 0;
      if (len > Limits.RANDOM_GET_MAX_BYTES) return WasiErrno.INVAL;
      if (len === 0) return WasiErrno.SUCCESS;
      gm.sync();
      if (!gm.ok(ptr >>> 0, len)) return WasiErrno.FAULT;
      randomFillSync(gm.u8, ptr >>> 0, len);
      return WasiErrno.SUCCESS;
    },
    proc_exit(code: number): void {
      // cpp-host only logs; the AS runtime then hits `unreachable`. Trapping here says where.
      throw new HostTrap(`proc_exit(${code}) called`);
    },
  };
}
