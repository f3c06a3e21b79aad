// A trap fails only its own VM; Envoy's failure policy then applies to that VM's streams.
import { describe, expect, test } from 'vitest';
import { ProxyWasmHost, Status } from '../../src/host/index.ts';
import { guest } from './wat.ts';

// on_request_headers hits `unreachable` when x-trap is present; every callback counts its calls
// in the exported global `calls`, so a test can see that nothing runs into a failed VM.
const TRAPPER = `
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (func $count (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
  (func (export "proxy_on_tick") (param i32) (call $count))
  (func (export "proxy_on_context_create") (param i32 i32) (call $count))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $count)
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 6) (i32.const 8) (i32.const 12)))
      (then unreachable))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (call $count) (i32.const 0))
  (func (export "proxy_on_log") (param i32) (call $count))
  (func (export "proxy_on_done") (param i32) (result i32) (call $count) (i32.const 1))
  (func (export "proxy_on_delete") (param i32) (call $count))`;

const calls = (host: ProxyWasmHost, vm: number) => (host.vms[vm]!.exports.calls as WebAssembly.Global).value as number;

async function twoVms(failPolicy: 'open' | 'closed') {
  const host = new ProxyWasmHost({ module: await guest({ body: TRAPPER, data: { 1024: 'x-trap' } }), vms: 2, failPolicy });
  expect(host.start()).toBe(true);
  return host;
}

describe('traps and the failure policy', () => {
  test('fail closed, a gRPC request: Envoy\'s 503 as gRPC — 200, grpc-status 14 (UNAVAILABLE), trailers-only', async () => {
    const host = await twoVms('closed');
    const r = host.stream(0).requestHeaders([[':path', '/pkg.Svc/M'], ['content-type', 'application/grpc+proto'], ['x-trap', '1']]);
    expect(r.action).toBe('failed-closed');
    expect(r.localResponse).toMatchObject({ grpc: true, status: 200, details: 'wasm_fail_stream', bodyText: '', grpcStatus: 14 });
    expect(r.localResponse!.headers).toEqual([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '14']]);
  });

  test('fail closed: the trapping request and later ones on that VM get 503 wasm_fail_stream', async () => {
    const host = await twoVms('closed');
    const s = host.stream(0);
    const r = s.requestHeaders([[':path', '/'], ['x-trap', '1']]);
    expect(r.action).toBe('failed-closed');
    expect(r.localResponse).toMatchObject({ status: 503, details: 'wasm_fail_stream', bodyText: '', grpcStatus: 14 });
    expect(host.vms[0]!.failed).toBe(true);
    expect(host.vms[0]!.failure).toContain('unreachable');
    expect(host.logs.some((l) => l.vm === 0 && l.source === 'host' && l.level === 'critical')).toBe(true);

    const before = calls(host, 0);
    const later = host.stream(0);
    const r2 = later.requestHeaders([[':path', '/ok']]);
    expect(r2.action).toBe('failed-closed');
    expect(r2.localResponse!.status).toBe(503);
    expect(later.responseHeaders([[':status', '200']]).action).toBe('failed-closed');
    later.finish();
    s.finish();
    host.advance(100); // no ticks into the failed VM either
    expect(calls(host, 0)).toBe(before);
  });

  test('fail open: the filter is skipped on that VM', async () => {
    const host = await twoVms('open');
    // The stream that trapped is answered 503 under fail open too, as Envoy does
    // (test/envoy/failure.test.ts); only later streams skip the filter.
    const trapped = host.stream(0).requestHeaders([['x-trap', '1']]);
    expect(trapped.action).toBe('failed-closed');
    expect(trapped.localResponse?.status).toBe(503);
    const before = calls(host, 0);
    const later = host.stream(0);
    expect(later.requestHeaders([[':path', '/']])).toEqual({ action: 'failed-open' });
    expect(later.responseHeaders([[':status', '200']])).toEqual({ action: 'failed-open' });
    later.finish();
    expect(calls(host, 0)).toBe(before);
    expect(later.localResponse).toBeUndefined();
  });

  test('other VMs keep working', async () => {
    const host = await twoVms('closed');
    host.stream(0).requestHeaders([['x-trap', '1']]);
    const before = calls(host, 1);
    const s = host.stream(1);
    expect(s.requestHeaders([[':path', '/']]).action).toBe('continue');
    expect(s.responseHeaders([[':status', '200']]).action).toBe('continue');
    s.finish();
    expect(host.vms[1]!.failed).toBe(false);
    expect(calls(host, 1)).toBe(before + 6); // create, request, response, log, done, delete
    host.advance(10);
    expect(calls(host, 1)).toBe(before + 7); // and its ticks
  });

  test('a stream already in flight on the failed VM fails at its next step', async () => {
    const host = await twoVms('closed');
    const inflight = host.stream(0);
    expect(inflight.requestHeaders([[':path', '/']], false).action).toBe('continue');
    host.stream(0).requestHeaders([['x-trap', '1']]);
    expect(inflight.responseHeaders([[':status', '200']]).action).toBe('failed-closed');
  });

  test('a trap in on_configure makes start() false; returning false does too', async () => {
    const trap = `(func (export "proxy_on_configure") (param i32 i32) (result i32) unreachable)`;
    const h1 = new ProxyWasmHost({ module: await guest({ body: trap }) });
    expect(h1.start()).toBe(false);
    expect(h1.vms[0]!.failed).toBe(true);

    const reject = `(func (export "proxy_on_configure") (param i32) (param $size i32) (result i32) (i32.ne (local.get $size) (i32.const 3)))`;
    const h2 = new ProxyWasmHost({ module: await guest({ body: reject }), configuration: 'bad', vms: 2 });
    expect(h2.start()).toBe(false);
    expect(h2.vms[0]!.failed).toBe(false);
    expect(h2.configure('good!')).toBe(true);
    expect(h2.configure('bad')).toBe(false);
  });

  test('proc_exit traps (cpp-host would log and return, then the guest hits unreachable)', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $proc_exit (i32.const 3)) (i32.const 0))`;
    const host = new ProxyWasmHost({ module: await guest({ body, wasi: ['proc_exit'] }), failPolicy: 'open' });
    host.start();
    expect(host.stream().requestHeaders([]).action).toBe('failed-closed');
    expect(host.vms[0]!.failure).toContain('proc_exit(3)');
    expect(host.stream().requestHeaders([]).action).toBe('failed-open');
  });

  test('invoke() on a failed VM is refused loudly', async () => {
    const host = await twoVms('closed');
    host.stream(0).requestHeaders([['x-trap', '1']]);
    expect(() => host.vms[0]!.invoke('call_proxy_done')).toThrow(/has failed/);
    expect(host.vms[1]!.invoke('call_proxy_done')).toBe(Status.NOT_FOUND);
  });
});
