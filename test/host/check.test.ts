// checkModule/compileModule refuse what Envoy refuses to load, and nothing else.
import { describe, expect, test } from 'vitest';
import {
  checkModule,
  compileModule,
  ENVOY_ENV_IMPORTS_ABI_0_2_1,
  HostLoadError,
  ProxyWasmHost,
  WASI_IMPORTS,
} from '../../src/host/index.ts';
import { ENV_IMPORT_SIGNATURES, WASI_IMPORT_SIGNATURES } from '../../src/host/abi.ts';
import { guestText, rawModule, wat2wasm } from './wat.ts';

/** The smallest module Envoy accepts: marker, allocator, memory. */
const CLEAN = `(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1")))`;

function refusal(fn: () => unknown): HostLoadError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HostLoadError);
    return e as HostLoadError;
  }
  throw new Error('expected HostLoadError');
}

describe('checkModule', () => {
  test('a clean module passes, with checkModule and compileModule', async () => {
    const m = await rawModule(CLEAN);
    const bytes = await wat2wasm(CLEAN);
    expect(() => checkModule(m)).not.toThrow();
    expect(() => compileModule(bytes)).not.toThrow();
  });

  test('a module without proxy_abi_version_0_2_1 is refused with cpp-host’s message', async () => {
    const m = await rawModule(CLEAN.replace('(func (export "proxy_abi_version_0_2_1"))', ''));
    expect(refusal(() => checkModule(m)).message).toContain('Missing or unknown Proxy-Wasm ABI version');
  });

  test('a 0.2.0 module is refused too, naming what it exports', async () => {
    const m = await rawModule(CLEAN.replace('proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0'));
    const e = refusal(() => checkModule(m));
    expect(e.message).toContain('Missing or unknown Proxy-Wasm ABI version');
    expect(e.message).toContain('proxy_abi_version_0_2_0');
  });

  test('importing env.abort (an AS build without --use abort=...) is refused, naming env.abort', async () => {
    const m = await rawModule(
      CLEAN.replace('(module', '(module (import "env" "abort" (func (param i32 i32 i32 i32)))'),
    );
    const e = refusal(() => checkModule(m));
    expect(e.message).toContain('env.abort');
    expect(e.message).toContain('Envoy would refuse to load');
  });

  test('importing the 0.1.0-only proxy_get_configuration is refused', async () => {
    const m = await rawModule(
      CLEAN.replace('(module', '(module (import "env" "proxy_get_configuration" (func (param i32 i32) (result i32)))'),
    );
    const e = refusal(() => checkModule(m));
    expect(e.message).toContain('env.proxy_get_configuration');
    expect(e.message).toContain('0.1.0');
  });

  test.each(['proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache'])('%s (0.1.0 only) is refused', async (name) => {
    const m = await rawModule(CLEAN.replace('(module', `(module (import "env" "${name}" (func (result i32)))`));
    expect(refusal(() => checkModule(m)).message).toContain(`env.${name}`);
  });

  test('a module without malloc or proxy_on_memory_allocate is refused', async () => {
    const m = await rawModule(CLEAN.replace('(export "malloc")', ''));
    expect(refusal(() => checkModule(m)).message).toContain('missing malloc');
  });

  test('proxy_on_memory_allocate alone is enough', async () => {
    const m = await rawModule(CLEAN.replace('"malloc"', '"proxy_on_memory_allocate"'));
    expect(() => checkModule(m)).not.toThrow();
  });

  test('a module that exports no memory is refused', async () => {
    const m = await rawModule(CLEAN.replace('(export "memory")', ''));
    expect(refusal(() => checkModule(m)).message).toContain('memory');
  });

  test('imports from unknown modules, unknown WASI functions and non-functions are refused', async () => {
    const m = await rawModule(
      CLEAN.replace(
        '(module',
        `(module
          (import "foo" "bar" (func))
          (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
          (import "env" "table" (table 1 funcref))`,
      ),
    );
    const e = refusal(() => checkModule(m));
    expect(e.message).toContain('foo.bar');
    expect(e.message).toContain('wasi_snapshot_preview1.sock_accept');
    expect(e.message).toContain('env.table');
    expect(e.problems).toHaveLength(3); // every problem is listed, not just the first
  });

  test('every 0.2.1 env import and the WASI set under both module names are accepted', async () => {
    const text = guestText({ wasi: Object.keys(WASI_IMPORT_SIGNATURES) }).replace(
      '(module',
      `(module (import "wasi_unstable" "proc_exit" (func (param i32))) (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))`,
    );
    const bytes = await wat2wasm(text);
    expect(() => compileModule(bytes)).not.toThrow();
  });

  test('an import with the wrong signature is refused (when the bytes are known)', async () => {
    const text = CLEAN.replace(
      '(module',
      '(module (import "env" "proxy_get_header_map_value" (func (param i32 i32 i32 i32) (result i32)))',
    );
    const bytes = await wat2wasm(text);
    const e = refusal(() => compileModule(bytes));
    expect(e.message).toContain('env.proxy_get_header_map_value');
    expect(e.message).toContain('type mismatch');
  });

  test('an exported callback with the 0.1.0 shape is refused ("Bad function signature")', async () => {
    const text = CLEAN.replace(
      '(module',
      '(module (func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))',
    );
    const bytes = await wat2wasm(text);
    const e = refusal(() => compileModule(bytes));
    expect(e.message).toContain('Bad function signature for: proxy_on_request_headers');
  });

  test('ProxyWasmHost refuses such a module too', async () => {
    const m = await rawModule(CLEAN.replace('(func (export "proxy_abi_version_0_2_1"))', ''));
    expect(() => new ProxyWasmHost({ module: m })).toThrow(HostLoadError);
  });
});

describe('the import sets', () => {
  test('0.2.1 adds continue_stream, close_stream and get_log_level; 0.1.0-only names are absent', () => {
    for (const n of ['proxy_continue_stream', 'proxy_close_stream', 'proxy_get_log_level', 'proxy_log', 'proxy_http_call']) {
      expect(ENVOY_ENV_IMPORTS_ABI_0_2_1.has(n)).toBe(true);
    }
    for (const n of ['proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache', 'abort', 'seed', 'trace', 'proxy_dispatch_http_call']) {
      expect(ENVOY_ENV_IMPORTS_ABI_0_2_1.has(n)).toBe(false);
    }
  });

  test('WASI set', () => {
    for (const n of ['fd_write', 'clock_time_get', 'random_get', 'proc_exit', 'environ_get', 'environ_sizes_get', 'args_get', 'args_sizes_get']) {
      expect(WASI_IMPORTS.has(n)).toBe(true);
    }
    expect(WASI_IMPORTS.has('poll_oneoff')).toBe(false);
  });

  test('signatures match the ABI text (spot checks written out independently)', () => {
    const s = (n: string) => ENV_IMPORT_SIGNATURES[n];
    expect(s('proxy_get_header_map_value')).toEqual({ params: 'iiiii', results: 'i' });
    expect(s('proxy_send_local_response')).toEqual({ params: 'iiiiiiii', results: 'i' });
    expect(s('proxy_http_call')).toEqual({ params: 'iiiiiiiiii', results: 'i' });
    expect(s('proxy_increment_metric')).toEqual({ params: 'iI', results: 'i' });
    expect(s('proxy_record_metric')).toEqual({ params: 'iI', results: 'i' });
    expect(s('proxy_done')).toEqual({ params: '', results: 'i' });
    expect(WASI_IMPORT_SIGNATURES.clock_time_get).toEqual({ params: 'iIi', results: 'i' });
    expect(WASI_IMPORT_SIGNATURES.proc_exit).toEqual({ params: 'i', results: '' });
  });
});
