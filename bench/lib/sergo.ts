// build/sergo.wasm and build/empty.wasm in src/host, driven through whole request lifecycles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModule, ManualClock, ProxyWasmHost, type HostOptions } from '../../src/host/index.ts';
import { benchWasm } from './modules.ts';
import { cpuNsSince } from './stats.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SERGO_WASM = join(ROOT, 'build', 'sergo.wasm');
export const EMPTY_WASM = join(ROOT, 'build', 'empty.wasm');

let sergo: WebAssembly.Module | undefined;
let empty: WebAssembly.Module | undefined;
let exact: WebAssembly.Module | undefined;
export const sergoModule = (): WebAssembly.Module => (sergo ??= compileModule(readFileSync(SERGO_WASM)));
export const emptyModule = (): WebAssembly.Module => (empty ??= compileModule(readFileSync(EMPTY_WASM)));
/** bench/wasm/exact.ts: the host calls of an exact design and nothing else (configuration "ratelimit" or "allfour"). */
export const exactModule = (): WebAssembly.Module => (exact ??= compileModule(readFileSync(benchWasm('exact'))));

/** Request headers as Envoy hands them to a filter (pseudo-headers first). */
export function requestHeaders(path: string, method = 'GET'): [string, string][] {
  return [[':method', method], [':path', path], [':authority', 'svc'], [':scheme', 'http'], ['user-agent', 'bench'], ['x-request-id', '0f4e3a']];
}
export const RESPONSE_200: [string, string][] = [[':status', '200'], ['content-type', 'application/json'], ['content-length', '2']];

export interface LifecycleHost {
  host: ProxyWasmHost;
  clock: ManualClock;
}

/** A started host on a virtual clock; throws if the configuration is refused. */
export function startHost(module: WebAssembly.Module, configuration: string, vms = 1, more: Partial<HostOptions> = {}): LifecycleHost {
  const clock = new ManualClock();
  const host = new ProxyWasmHost({ module, vms, clock, configuration, ...more });
  if (!host.start()) throw new Error(`configuration refused: ${host.logs.map((l) => l.message).join('; ').slice(0, 500)}`);
  return { host, clock };
}

/**
 * n full lifecycles (create → request_headers → response_headers → log → done → delete), VMs in
 * turn; the virtual clock moves 1 ms every 1,024 requests (windows and buckets roll as in a
 * proxy at ~1M requests/s).
 */
export function lifecycles({ host, clock }: LifecycleHost, headers: [string, string][], n: number): void {
  for (let i = 0; i < n; i++) {
    const s = host.stream();
    const r = s.requestHeaders(headers);
    if (r.action !== 'continue') throw new Error(`request ${i} was not admitted (${r.action}): the benchmark rules must never block`);
    s.responseHeaders(RESPONSE_200);
    s.finish();
    if ((i & 1023) === 0) clock.advance(1);
  }
}

export interface Timing {
  wallNs: number;
  cpuNs: number;
}

/** Warm-up, then ns per lifecycle (wall and CPU) over `n` lifecycles. */
export function timeLifecycles(h: LifecycleHost, headers: [string, string][], n: number, warmup = Math.min(5000, n >> 2)): Timing {
  lifecycles(h, headers, warmup);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  lifecycles(h, headers, n);
  const wallNs = Number(process.hrtime.bigint() - t0) / n;
  const cpuNs = cpuNsSince(cpu0) / n;
  const failed = h.host.vms.find((vm) => vm.failed);
  if (failed) throw new Error(`a VM failed: ${failed.failure}`);
  return { wallNs, cpuNs };
}
