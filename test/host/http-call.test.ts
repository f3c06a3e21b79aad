// proxy_http_call: issued on the root context, answered through proxy_on_http_call_response on
// the root, with the response readable only inside that callback.
import { describe, expect, test } from 'vitest';
import { encodePairs, ProxyWasmHost, Status, type HttpCallRequest, type HttpCallResponse } from '../../src/host/index.ts';
import { guest, u32 } from './wat.ts';

const GOOD = encodePairs([[':method', 'POST'], [':path', '/check'], [':authority', 'auth']]);
const NO_AUTHORITY = encodePairs([[':method', 'POST'], [':path', '/check']]);

// on_request_headers calls cluster "auth" (headers at 3000 or 3500 when [96] is 1; timeout [90])
// and pauses. on_http_call_response records its arguments, logs the response :status and body,
// records proxy_get_status, and resumes the stream through set_effective_context.
const body = `
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (i32.store (i32.const 72) (local.get $id))
    (i32.store (i32.const 64)
      (call $proxy_http_call (i32.const 1024) (i32.const 4)
        (select (i32.const 3500) (i32.const 3000) (i32.load (i32.const 96)))
        (select (i32.const ${NO_AUTHORITY.length}) (i32.const ${GOOD.length}) (i32.load (i32.const 96)))
        (i32.const 1040) (i32.const 4) (i32.const 0) (i32.const 0) (i32.load (i32.const 90)) (i32.const 68)))
    (i32.const 1))
  (func (export "proxy_on_http_call_response") (param $root i32) (param $token i32) (param $nh i32) (param $bs i32) (param $nt i32)
    (i32.store (i32.const 76) (local.get $root))
    (i32.store (i32.const 80) (local.get $token))
    (i32.store (i32.const 84) (local.get $nh))
    (i32.store (i32.const 88) (local.get $bs))
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 6) (i32.const 1056) (i32.const 7) (i32.const 8) (i32.const 12)))
      (then (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 8)) (i32.load (i32.const 12))))))
    (if (i32.eqz (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (local.get $bs) (i32.const 8) (i32.const 12)))
      (then (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 8)) (i32.load (i32.const 12))))))
    (drop (call $proxy_get_status (i32.const 92) (i32.const 8) (i32.const 12)))
    (drop (call $proxy_set_effective_context (i32.load (i32.const 72))))
    (drop (call $proxy_continue_stream (i32.const 0))))`;
const data = { 1024: 'auth', 1040: 'ping', 1056: ':status', 3000: GOOD, 3500: NO_AUTHORITY };

async function setup(handler?: (vm: number, call: HttpCallRequest) => Promise<HttpCallResponse | null>, timeoutMs = 0) {
  const host = new ProxyWasmHost({ module: await guest({ body, data }), httpCallHandler: handler });
  host.start();
  const vm = host.vms[0]!;
  new DataView((vm.exports.memory as WebAssembly.Memory).buffer).setUint32(90, timeoutMs, true);
  return { host, vm, messages: () => host.logs.filter((l) => l.source === 'guest').map((l) => l.message) };
}

describe('proxy_http_call', () => {
  test('without a handler every cluster is unknown: BAD_ARGUMENT', async () => {
    const { host, vm } = await setup();
    host.stream().requestHeaders([[':path', '/']]);
    expect(u32(vm, 64)).toBe(Status.BAD_ARGUMENT);
  });

  test('the response goes to the root context; the filter resumes its stream from there', async () => {
    const calls: HttpCallRequest[] = [];
    const { host, vm, messages } = await setup(async (_vm, call) => {
      calls.push(call);
      return { headers: [[':status', '200'], ['X-Auth', 'ok']], body: 'pong' };
    });
    const s = host.stream();
    expect(s.requestHeaders([[':path', '/']]).action).toBe('pause');
    expect(u32(vm, 64)).toBe(Status.OK);
    const token = u32(vm, 68);
    expect(token).toBeGreaterThan(0);
    await host.whenIdle();
    expect(calls).toEqual([
      { cluster: 'auth', headers: [[':method', 'POST'], [':path', '/check'], [':authority', 'auth']], body: new TextEncoder().encode('ping'), trailers: [], timeoutMs: 0 },
    ]);
    expect([u32(vm, 76), u32(vm, 80), u32(vm, 84), u32(vm, 88)]).toEqual([vm.rootContextId, token, 2, 4]);
    expect(messages()).toEqual(['200', 'pong']);
    expect(u32(vm, 92)).toBe(Status.OK);
    expect(s.resumeCount).toBe(1);
    // outside the callback the response is gone
    expect(vm.invoke('call_proxy_get_buffer_bytes', 4, 0, 10, 8, 12)).toBe(Status.NOT_FOUND);
  });

  test('a failed call arrives with 0 headers and proxy_get_status BROKEN_CONNECTION', async () => {
    const { host, vm, messages } = await setup(async () => null);
    const s = host.stream();
    s.requestHeaders([[':path', '/']]);
    await host.whenIdle();
    expect([u32(vm, 84), u32(vm, 88)]).toEqual([0, 0]);
    expect(u32(vm, 92)).toBe(Status.BROKEN_CONNECTION);
    expect(messages()).toEqual([]);
    expect(s.resumeCount).toBe(1);
  });

  test('a timeout answers 504 (Envoy’s async client) when the clock passes it', async () => {
    const { host, vm, messages } = await setup(() => new Promise(() => {}), 100);
    host.stream().requestHeaders([[':path', '/']]);
    host.advance(99);
    expect(messages()).toEqual([]);
    host.advance(1);
    expect(messages()).toEqual(['504', 'upstream request timeout']);
    expect(u32(vm, 84)).toBe(3);
    await host.whenIdle();
  });

  test('headers without :authority are BAD_ARGUMENT', async () => {
    const { host, vm } = await setup(async () => ({ headers: [[':status', '200']] }));
    new DataView((vm.exports.memory as WebAssembly.Memory).buffer).setUint32(96, 1, true);
    host.stream().requestHeaders([[':path', '/']]);
    expect(u32(vm, 64)).toBe(Status.BAD_ARGUMENT);
    await host.whenIdle();
  });
});
