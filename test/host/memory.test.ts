// Host→guest memory: only through the guest's allocator, exactly len bytes, (0, 0) for empty
// results, fresh views after memory growth, and Envoy's restrictions on host calls made while the
// module initialises or from inside its allocator.
import { describe, expect, test } from 'vitest';
import { ProxyWasmHost, Status } from '../../src/host/index.ts';
import { global, guest, peek, poke, RET_PTR, RET_SIZE, retText, u32 } from './wat.ts';

/**
 * on_configure and on_request_headers each read one value with ret slots pre-filled with
 * 0xaaaaaaaa and record: status, ret ptr, ret size, how many mallocs the call made, last size.
 */
const RECORDING = `
  (func $record (param $at i32) (param $status i32) (param $before i32)
    (i32.store (local.get $at) (local.get $status))
    (i32.store offset=4 (local.get $at) (i32.load (i32.const 8)))
    (i32.store offset=8 (local.get $at) (i32.load (i32.const 12)))
    (i32.store offset=12 (local.get $at) (i32.sub (global.get $mallocs) (local.get $before)))
    (i32.store offset=16 (local.get $at) (global.get $last_malloc)))
  (func $prefill
    (i32.store (i32.const 8) (i32.const 0xaaaaaaaa))
    (i32.store (i32.const 12) (i32.const 0xaaaaaaaa)))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (local $before i32)
    (call $prefill)
    (local.set $before (global.get $mallocs))
    (call $record (i32.const 100)
      (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (local.get $size) (i32.const 8) (i32.const 12))
      (local.get $before))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $before i32)
    (call $prefill)
    (local.set $before (global.get $mallocs))
    (call $record (i32.const 200)
      (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 7) (i32.const 8) (i32.const 12))
      (local.get $before))
    (i32.const 0))`;

const recorded = (vm: { exports: WebAssembly.Exports }, at: number) => ({
  status: u32(vm, at),
  ptr: u32(vm, at + 4),
  size: u32(vm, at + 8),
  mallocs: u32(vm, at + 12),
});

describe('zero-length results', () => {
  test('an empty plugin configuration is (0, 0) and malloc is not called', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body: RECORDING, data: { 1024: 'x-value' } }), configuration: '' });
    expect(host.start()).toBe(true);
    expect(recorded(host.vms[0]!, 100)).toEqual({ status: Status.OK, ptr: 0, size: 0, mallocs: 0 });
  });

  test('an empty header value is (0, 0) and malloc is not called', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body: RECORDING, data: { 1024: 'x-value' } }) });
    host.start();
    host.stream().requestHeaders([['x-value', '']]);
    expect(recorded(host.vms[0]!, 200)).toEqual({ status: Status.OK, ptr: 0, size: 0, mallocs: 0 });
  });

  test('a non-empty value takes exactly one malloc of exactly its length', async () => {
    const config = '{"version":1}';
    const host = new ProxyWasmHost({ module: await guest({ body: RECORDING, data: { 1024: 'x-value' } }), configuration: config });
    host.start();
    const vm = host.vms[0]!;
    const r = recorded(vm, 100);
    expect(r).toMatchObject({ status: Status.OK, size: config.length, mallocs: 1 });
    expect(u32(vm, 116)).toBe(config.length); // the size malloc was asked for
    expect(new TextDecoder().decode(peek(vm, r.ptr, r.size))).toBe(config);
  });
});

describe('the guest allocator', () => {
  test('proxy_on_memory_allocate is used when there is no malloc', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body: RECORDING, alloc: 'pma', data: { 1024: 'x-value' } }) });
    host.start();
    host.stream().requestHeaders([['x-value', 'abc']]);
    const vm = host.vms[0]!;
    expect(recorded(vm, 200)).toMatchObject({ status: Status.OK, size: 3, mallocs: 1 });
    expect(global(vm, 'last_malloc')).toBe(3);
  });

  test('an allocator returning 0 makes the call INVALID_MEMORY_ACCESS', async () => {
    const alloc = { wat: `(func (export "malloc") (param i32) (result i32) (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1))) (i32.const 0))` };
    const host = new ProxyWasmHost({ module: await guest({ body: RECORDING, alloc, data: { 1024: 'x-value' } }) });
    host.start();
    host.stream().requestHeaders([['x-value', 'abc']]);
    expect(recorded(host.vms[0]!, 200)).toMatchObject({ status: Status.INVALID_MEMORY_ACCESS, mallocs: 1 });
  });

  test('memory that grows inside malloc is re-read (no stale views)', async () => {
    // Every malloc grows memory by one page and hands out the new page.
    const alloc = { wat: `(func (export "malloc") (param i32) (result i32) (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))` };
    const PAUSE = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;
    const host = new ProxyWasmHost({ module: await guest({ body: PAUSE, alloc }) });
    host.start();
    const vm = host.vms[0]!;
    const s = host.stream();
    s.requestHeaders([['a', 'first'], ['b', 'second'], ['c', 'third']]);
    const pages = vm.memoryPages();
    for (const [k, v] of [['a', 'first'], ['b', 'second'], ['c', 'third']] as const) {
      const [kp, kl] = poke(vm, 1024, k);
      expect(s.invoke('call_proxy_get_header_map_value', 0, kp, kl, RET_PTR, RET_SIZE)).toBe(Status.OK);
      expect(retText(vm)).toBe(v);
      expect(u32(vm, RET_PTR) % 65536).toBe(0);
    }
    expect(vm.memoryPages()).toBe(pages + 3);
  });

  test('a ret pointer outside memory is INVALID_MEMORY_ACCESS', async () => {
    const PAUSE = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;
    const host = new ProxyWasmHost({ module: await guest({ body: PAUSE, data: { 1024: 'a' } }) });
    host.start();
    const s = host.stream();
    s.requestHeaders([['a', '']]);
    expect(s.invoke('call_proxy_get_header_map_value', 0, 1024, 1, 0xfffffff0, RET_SIZE)).toBe(Status.INVALID_MEMORY_ACCESS);
  });
});

describe('restricted host calls (Envoy traps them)', () => {
  test('proxy_get_property during _initialize traps and fails the VM', async () => {
    const body = `(func (export "_initialize") (drop (call $proxy_get_property (i32.const 1024) (i32.const 4) (i32.const 8) (i32.const 12))))`;
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: 'node' } }) });
    expect(host.start()).toBe(false);
    expect(host.vms[0]!.failed).toBe(true);
    expect(host.vms[0]!.failure).toContain('restricted_callback');
    expect(host.vms[0]!.failure).toContain('env.proxy_get_property');
  });

  test('proxy_log during _initialize is allowed', async () => {
    const body = `(func (export "_initialize") (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 5))))`;
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: 'hello' } }) });
    expect(host.start()).toBe(true);
    expect(host.logs).toEqual([{ vm: 0, level: 'info', message: 'hello', source: 'guest' }]);
  });

  test('inside malloc proxy_log is allowed, other host calls trap', async () => {
    const mk = (call: string) => ({
      wat: `(global $heap (mut i32) (i32.const 65536))
        (func (export "malloc") (param $n i32) (result i32) (local $p i32)
          ${call}
          (local.set $p (global.get $heap))
          (global.set $heap (i32.add (local.get $p) (local.get $n)))
          (local.get $p))`,
    });
    const PAUSE = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;
    const logging = new ProxyWasmHost({
      module: await guest({ body: PAUSE, alloc: mk('(drop (call $proxy_log (i32.const 1) (i32.const 1024) (i32.const 5)))'), data: { 1024: 'alloc' } }),
    });
    logging.start();
    const s1 = logging.stream();
    s1.requestHeaders([['alloc', 'v']]);
    expect(s1.invoke('call_proxy_get_header_map_value', 0, 1024, 5, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect(logging.logs.map((l) => l.message)).toEqual(['alloc']);

    const bad = new ProxyWasmHost({
      module: await guest({ body: PAUSE, alloc: mk('(drop (call $proxy_set_tick_period_milliseconds (i32.const 1)))'), data: { 1024: 'alloc' } }),
    });
    bad.start();
    const s2 = bad.stream();
    s2.requestHeaders([['alloc', 'v']]);
    expect(s2.invoke('call_proxy_get_header_map_value', 0, 1024, 5, RET_PTR, RET_SIZE)).toBeUndefined();
    expect(bad.vms[0]!.failed).toBe(true);
    expect(bad.vms[0]!.failure).toContain('inside the allocator');
  });
});

describe('a wasm start function', () => {
  test('runs before the memory export is reachable: host calls get INVALID_MEMORY_ACCESS, no crash', async () => {
    const body = `
      (global $st (export "start_status") (mut i32) (i32.const -1))
      (func $s (global.set $st (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 2))))
      (start $s)`;
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: 'hi' } }) });
    expect(host.start()).toBe(true);
    expect(global(host.vms[0]!, 'start_status')).toBe(Status.INVALID_MEMORY_ACCESS);
  });
});
