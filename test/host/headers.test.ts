// Header-pair serialization and the header-map host functions, including when Envoy makes each
// map available.
import { Buffer } from 'node:buffer';
import { beforeEach, describe, expect, test } from 'vitest';
import { decodePairs, encodePairs, ProxyWasmHost, Status, type HttpStream, type Vm } from '../../src/host/index.ts';
import { global, guest, poke, RET_PTR, RET_SIZE, retByteString, retBytes, setU32, u32 } from './wat.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('pairs serialization', () => {
  test('the reference example {a:"1", b:"22"} is exactly these 29 bytes', () => {
    // (the reference text says 27, but its own hex is 5 × 4 + 9 = 29 bytes)
    const bytes = encodePairs([
      ['a', '1'],
      ['b', '22'],
    ]);
    expect(hex(bytes)).toBe('02000000' + '01000000' + '01000000' + '01000000' + '02000000' + '6100' + '3100' + '6200' + '323200');
    expect(bytes.length).toBe(29);
    expect(decodePairs(bytes)).toEqual([
      ['a', '1'],
      ['b', '22'],
    ]);
  });

  test('an empty map can be 0 bytes, one NUL byte or a 4-byte zero count', () => {
    expect(decodePairs(new Uint8Array(0))).toEqual([]);
    expect(decodePairs(new Uint8Array([0]))).toEqual([]);
    expect(decodePairs(new Uint8Array(4))).toEqual([]);
    expect(hex(encodePairs([]))).toBe('00000000');
  });

  test('malformed buffers are rejected (null): missing NUL, overrun, trailing bytes', () => {
    const good = encodePairs([['k', 'v']]);
    const noNul = good.slice();
    noNul[good.length - 1] = 0x41;
    expect(decodePairs(noNul)).toBeNull();
    expect(decodePairs(good.subarray(0, good.length - 1))).toBeNull();
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expect(decodePairs(trailing)).toBeNull();
  });

  test('limits: more than 1024 pairs or more than 1 MiB are rejected', () => {
    const many = Array.from({ length: 1025 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
    expect(decodePairs(encodePairs(many))).toBeNull();
    expect(decodePairs(encodePairs(many.slice(0, 1024)))).toHaveLength(1024);
    const big = encodePairs([['k', 'x'.repeat(1024 * 1024)]]);
    expect(decodePairs(big)).toBeNull();
  });

  test('arbitrary non-NUL bytes round-trip exactly', () => {
    const all = String.fromCharCode(...Array.from({ length: 255 }, (_, i) => i + 1));
    expect(decodePairs(encodePairs([['x-bytes', all]]))).toEqual([['x-bytes', all]]);
  });
});

describe('header maps through the guest', () => {
  // Pauses in both header callbacks, so the maps stay live for the host calls the test makes
  // (Envoy keeps a paused stream's headers available, e.g. to an on_tick that resumes it).
  const PAUSING = `
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;
  let host: ProxyWasmHost;
  let vm: Vm;
  let s: HttpStream;

  beforeEach(async () => {
    host = new ProxyWasmHost({ module: await guest({ body: PAUSING }) });
    host.start();
    vm = host.vms[0]!;
    s = host.stream();
  });

  const getPairs = (type = 0) => {
    const st = s.invoke('call_proxy_get_header_map_pairs', type, RET_PTR, RET_SIZE);
    return { st, pairs: decodePairs(retBytes(vm)) };
  };
  const key = (k: string) => poke(vm, 1024, k);
  const val = (v: string) => poke(vm, 2048, Buffer.from(v, 'latin1'));
  const getValue = (k: string, type = 0) => {
    const st = s.invoke('call_proxy_get_header_map_value', type, ...key(k), RET_PTR, RET_SIZE);
    return st === Status.OK ? retByteString(vm) : st;
  };

  test('get_header_map_pairs returns the map with lower-cased names; values keep any bytes', () => {
    const bytes = String.fromCharCode(...Array.from({ length: 255 }, (_, i) => i + 1));
    const utf8 = Buffer.from('héllo ✓', 'utf8').toString('latin1');
    expect(s.requestHeaders([
      [':path', '/a?b=1'],
      ['Content-Type', 'text/plain'],
      ['x-bytes', bytes],
      ['x-utf8', utf8],
      ['x-empty', ''],
    ]).action).toBe('pause');
    const before = global(vm, 'mallocs');
    const { st, pairs } = getPairs();
    expect(st).toBe(Status.OK);
    expect(pairs).toEqual([
      [':path', '/a?b=1'],
      ['content-type', 'text/plain'],
      ['x-bytes', bytes],
      ['x-utf8', utf8],
      ['x-empty', ''],
    ]);
    // exactly one allocation of exactly the serialized size
    expect(global(vm, 'mallocs')).toBe(before + 1);
    expect(global(vm, 'last_malloc')).toBe(u32(vm, RET_SIZE));
    expect(Buffer.from(getValue('X-UTF8') as string, 'latin1').toString('utf8')).toBe('héllo ✓');
  });

  test('an empty map comes back as (0, 0) without allocating', () => {
    s.requestHeaders([]);
    setU32(vm, RET_PTR, 0xaaaaaaaa);
    setU32(vm, RET_SIZE, 0xaaaaaaaa);
    const before = global(vm, 'mallocs');
    expect(s.invoke('call_proxy_get_header_map_pairs', 0, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect([u32(vm, RET_PTR), u32(vm, RET_SIZE)]).toEqual([0, 0]);
    expect(global(vm, 'mallocs')).toBe(before);
  });

  test('set_header_map_pairs replaces the whole map and lower-cases names', () => {
    s.requestHeaders([[':path', '/'], ['x-old', '1']]);
    const [p, n] = poke(vm, 4096, encodePairs([['X-New', 'a'], [':path', '/b']]));
    expect(s.invoke('call_proxy_set_header_map_pairs', 0, p, n)).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([['x-new', 'a'], [':path', '/b']]);
    expect(getPairs().pairs).toEqual([['x-new', 'a'], [':path', '/b']]);
  });

  test.each([
    ['0 bytes', new Uint8Array(0)],
    ['one NUL byte', new Uint8Array([0])],
    ['a 4-byte zero count', new Uint8Array(4)],
  ])('set_header_map_pairs with %s empties the map', (_, bytes) => {
    s.requestHeaders([['x-old', '1']]);
    const [p, n] = poke(vm, 4096, bytes);
    expect(s.invoke('call_proxy_set_header_map_pairs', 0, p, n)).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([]);
  });

  test('a malformed pairs buffer empties the map (as cpp-host) and the host log says so', () => {
    s.requestHeaders([['x-old', '1']]);
    const bad = encodePairs([['k', 'v']]).slice(0, 10);
    const [p, n] = poke(vm, 4096, bad);
    expect(s.invoke('call_proxy_set_header_map_pairs', 0, p, n)).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([]);
    expect(host.logs.some((l) => l.source === 'host' && l.message.includes('malformed'))).toBe(true);
  });

  test('add appends, get returns the first value, replace leaves one, remove drops all', () => {
    s.requestHeaders([[':path', '/']]);
    const add = (k: string, v: string) => s.invoke('call_proxy_add_header_map_value', 0, ...key(k), ...val(v));
    expect(add('X-Multi', 'a')).toBe(Status.OK);
    expect(add('x-multi', 'b')).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([[':path', '/'], ['x-multi', 'a'], ['x-multi', 'b']]);
    expect(getValue('X-MULTI')).toBe('a');
    expect(s.invoke('call_proxy_replace_header_map_value', 0, ...key('x-multi'), ...val('c'))).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([[':path', '/'], ['x-multi', 'c']]);
    expect(s.invoke('call_proxy_replace_header_map_value', 0, ...key('x-fresh'), ...val('d'))).toBe(Status.OK);
    expect(getValue('x-fresh')).toBe('d');
    expect(s.invoke('call_proxy_remove_header_map_value', 0, ...key('X-Multi'))).toBe(Status.OK);
    expect(s.invoke('call_proxy_remove_header_map_value', 0, ...key('absent'))).toBe(Status.OK);
    expect(s.requestHeaderMap).toEqual([[':path', '/'], ['x-fresh', 'd']]);
  });

  test('a missing header is NOT_FOUND (ABI 0.2.x), and nothing is written', () => {
    s.requestHeaders([[':path', '/']]);
    setU32(vm, RET_PTR, 0xaaaaaaaa);
    expect(getValue('x-missing')).toBe(Status.NOT_FOUND);
    expect(u32(vm, RET_PTR)).toBe(0xaaaaaaaa);
  });

  test('an empty header value is (0, 0) without allocating', () => {
    s.requestHeaders([['x-empty', '']]);
    setU32(vm, RET_PTR, 0xaaaaaaaa);
    setU32(vm, RET_SIZE, 0xaaaaaaaa);
    const before = global(vm, 'mallocs');
    expect(s.invoke('call_proxy_get_header_map_value', 0, ...key('x-empty'), RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect([u32(vm, RET_PTR), u32(vm, RET_SIZE)]).toEqual([0, 0]);
    expect(global(vm, 'mallocs')).toBe(before);
  });

  test('get_header_map_size is the byte size of names and values; bad map types are BAD_ARGUMENT', () => {
    s.requestHeaders([[':path', '/abc'], ['x-a', '12']]);
    expect(s.invoke('call_proxy_get_header_map_size', 0, 16)).toBe(Status.OK);
    expect(u32(vm, 16)).toBe(5 + 4 + 3 + 2);
    expect(s.invoke('call_proxy_get_header_map_pairs', 8, RET_PTR, RET_SIZE)).toBe(Status.BAD_ARGUMENT);
    expect(getValue(':path', 8)).toBe(Status.BAD_ARGUMENT);
  });

  test('a key outside guest memory is INVALID_MEMORY_ACCESS', () => {
    s.requestHeaders([[':path', '/']]);
    expect(s.invoke('call_proxy_get_header_map_value', 0, 0x7fff0000, 4, RET_PTR, RET_SIZE)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  test('add, replace and remove refuse a bad map type or a name or value outside guest memory, and change nothing', () => {
    s.requestHeaders([[':path', '/'], ['x-a', '1']]);
    const before = s.requestHeaderMap.map((p) => [...p]);
    for (const call of ['call_proxy_add_header_map_value', 'call_proxy_replace_header_map_value']) {
      expect(s.invoke(call, 8, ...key('x-a'), ...val('2'))).toBe(Status.BAD_ARGUMENT);
      expect(s.invoke(call, 0, 0x7fff0000, 4, ...val('2'))).toBe(Status.INVALID_MEMORY_ACCESS);
      expect(s.invoke(call, 0, ...key('x-a'), 0x7fff0000, 4)).toBe(Status.INVALID_MEMORY_ACCESS);
    }
    expect(s.invoke('call_proxy_remove_header_map_value', 8, ...key('x-a'))).toBe(Status.BAD_ARGUMENT);
    expect(s.invoke('call_proxy_remove_header_map_value', 0, 0x7fff0000, 4)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(s.requestHeaderMap).toEqual(before);
  });

  test('response headers changed by the filter are what the stream sends', () => {
    s.requestHeaders([[':path', '/']]);
    expect(s.responseHeaders([[':status', '200'], ['Server', 'x']]).action).toBe('pause');
    s.invoke('call_proxy_replace_header_map_value', 2, ...key('server'), ...val('sergo'));
    expect(s.responseHeaderMap).toEqual([[':status', '200'], ['server', 'sergo']]);
  });

  test('header text must be byte strings (as in Node http)', () => {
    expect(() => s.requestHeaders([['x-a', 'snow ☃']])).toThrow(TypeError);
  });
});

describe('when each header map is available (Envoy keeps a map only while it may be used)', () => {
  // Every callback records get_header_map_value statuses for request ':path' and response
  // ':status' at fixed addresses; the header callbacks continue.
  const body = `
    (func $st (param $at i32) (param $type i32) (param $k i32) (param $kl i32)
      (i32.store (local.get $at) (call $proxy_get_header_map_value (local.get $type) (local.get $k) (local.get $kl) (i32.const 8) (i32.const 12))))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $st (i32.const 100) (i32.const 0) (i32.const 1024) (i32.const 5))
      (call $st (i32.const 104) (i32.const 2) (i32.const 1040) (i32.const 7))
      (i32.const 0))
    (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
      (call $st (i32.const 132) (i32.const 0) (i32.const 1024) (i32.const 5))
      (i32.const 0))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (call $st (i32.const 108) (i32.const 0) (i32.const 1024) (i32.const 5))
      (call $st (i32.const 112) (i32.const 2) (i32.const 1040) (i32.const 7))
      (i32.const 0))
    (func (export "proxy_on_log") (param i32)
      (call $st (i32.const 116) (i32.const 0) (i32.const 1024) (i32.const 5))
      (call $st (i32.const 120) (i32.const 2) (i32.const 1040) (i32.const 7))
      (call $st (i32.const 124) (i32.const 0) (i32.const 1056) (i32.const 7)))
    (func (export "proxy_on_done") (param i32) (result i32)
      (call $st (i32.const 128) (i32.const 0) (i32.const 1024) (i32.const 5))
      (i32.const 1))`;

  test('statuses per phase', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: ':path', 1040: ':status', 1056: 'missing' } }) });
    host.start();
    const vm = host.vms[0]!;
    const s = host.stream();
    s.requestHeaders([[':path', '/x']], false);
    s.requestBody('data', true);
    s.responseHeaders([[':status', '200']]);
    s.finish();
    const at = (a: number) => u32(vm, a);
    expect(at(100)).toBe(Status.OK); // request headers in on_request_headers
    expect(at(104)).toBe(Status.BAD_ARGUMENT); // response headers not there yet
    expect(at(132)).toBe(Status.BAD_ARGUMENT); // request headers were continued: Envoy dropped them
    expect(at(108)).toBe(Status.BAD_ARGUMENT); // … also in the response phase
    expect(at(112)).toBe(Status.OK);
    expect(at(116)).toBe(Status.OK); // on_log sees the final maps
    expect(at(120)).toBe(Status.OK);
    expect(at(124)).toBe(Status.NOT_FOUND); // a missing header in on_log
    expect(at(128)).toBe(Status.BAD_ARGUMENT); // nothing in on_done
  });
});
