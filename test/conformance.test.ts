// The built modules against the rules of Envoy's host (proxy-wasm-cpp-host) for an ABI 0.2.1
// module: Envoy links only the host functions of the declared ABI, so any other import (env.abort,
// a 0.1.0-only function, WASI proc_exit) makes the module fail to load. The set is written out here
// on purpose, independent of src/host.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ENVOY_ENV_0_2_1 = new Set([
  'proxy_log', 'proxy_get_log_level', 'proxy_get_status', 'proxy_set_property', 'proxy_get_property',
  'proxy_send_local_response', 'proxy_get_shared_data', 'proxy_set_shared_data',
  'proxy_register_shared_queue', 'proxy_resolve_shared_queue', 'proxy_dequeue_shared_queue',
  'proxy_enqueue_shared_queue', 'proxy_get_header_map_value', 'proxy_add_header_map_value',
  'proxy_replace_header_map_value', 'proxy_remove_header_map_value', 'proxy_get_header_map_pairs',
  'proxy_set_header_map_pairs', 'proxy_get_header_map_size', 'proxy_get_buffer_status',
  'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes', 'proxy_http_call', 'proxy_grpc_call',
  'proxy_grpc_stream', 'proxy_grpc_close', 'proxy_grpc_cancel', 'proxy_grpc_send',
  'proxy_set_tick_period_milliseconds', 'proxy_get_current_time_nanoseconds', 'proxy_define_metric',
  'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric', 'proxy_set_effective_context',
  'proxy_done', 'proxy_call_foreign_function', 'proxy_continue_stream', 'proxy_close_stream',
]);
// WASI functions cpp-host provides; proc_exit is left out on purpose: our modules must not need it.
const ENVOY_WASI = new Set([
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'environ_get', 'environ_sizes_get',
  'args_get', 'args_sizes_get', 'clock_time_get', 'random_get', 'sched_yield', 'poll_oneoff',
]);
const REQUIRED_EXPORTS = ['proxy_abi_version_0_2_1', 'malloc', 'proxy_on_memory_allocate', '_initialize', 'memory',
  'proxy_on_context_create', 'proxy_on_configure', 'proxy_on_request_headers', 'proxy_on_log', 'proxy_on_delete'];
// Left out on purpose: without it cpp-host counts a stream done at once (ContextBase::onDone) and
// spares the module a callback per stream; the stream is settled at on_log or on_delete.
const ABSENT_EXPORTS = ['proxy_on_done'];

/** Every import Envoy would refuse, as "module.name". */
export function importsEnvoyRefuses(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.imports(module)
    .filter((i) => !(i.module === 'env' && ENVOY_ENV_0_2_1.has(i.name)) &&
      !((i.module === 'wasi_snapshot_preview1' || i.module === 'wasi_unstable') && ENVOY_WASI.has(i.name)))
    .map((i) => `${i.module}.${i.name}`);
}

const root = join(import.meta.dirname, '..');
const load = (file: string) => new WebAssembly.Module(readFileSync(join(root, 'build', file)));

describe('module conformance with Envoy (ABI 0.2.1)', () => {
  for (const file of ['sergo.wasm', 'sergo.debug.wasm', 'empty.wasm']) {
    it(`${file} imports only what Envoy provides`, () => {
      expect(importsEnvoyRefuses(load(file))).toEqual([]);
    });
    it(`${file} exports the ABI marker, both allocators, _initialize and the callbacks`, () => {
      const exports = new Set(WebAssembly.Module.exports(load(file)).map((e) => e.name));
      expect(REQUIRED_EXPORTS.filter((n) => !exports.has(n))).toEqual([]);
      expect(ABSENT_EXPORTS.filter((n) => exports.has(n))).toEqual([]);
      expect(exports.has('proxy_abi_version_0_2_0')).toBe(false);
      expect(exports.has('_start')).toBe(false);
    });
  }

  it('the check itself refuses env.abort, 0.1.0-only imports and WASI proc_exit', async () => {
    const wabt = await (await import('wabt')).default();
    const wat = `(module
      (import "env" "abort" (func (param i32 i32 i32 i32)))
      (import "env" "proxy_get_configuration" (func (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
      (import "env" "proxy_log" (func (param i32 i32 i32) (result i32))))`;
    const bytes = wabt.parseWat('bad.wat', wat).toBinary({}).buffer;
    expect(importsEnvoyRefuses(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))).toEqual([
      'env.abort', 'env.proxy_get_configuration', 'wasi_snapshot_preview1.proc_exit',
    ]);
  });
});
