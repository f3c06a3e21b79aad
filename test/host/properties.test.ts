// Properties (NUL-joined paths, 8-byte ints) and when configuration buffers are readable.
import { describe, expect, test } from 'vitest';
import { BufferType, ProxyWasmHost, Status, type HttpStream, type Vm } from '../../src/host/index.ts';
import { guest, i64, peek, poke, RET_PTR, RET_SIZE, retBytes, retText, u32 } from './wat.ts';

const PAUSE = `
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;

function getProp(ctx: HttpStream | Vm, vm: Vm, path: string): number | Uint8Array {
  const [p, n] = poke(vm, 4096, path);
  const st = ctx.invoke('call_proxy_get_property', p, n, RET_PTR, RET_SIZE);
  return st === Status.OK ? retBytes(vm) : (st as number);
}
const text = (v: number | Uint8Array) => (typeof v === 'number' ? v : new TextDecoder().decode(v));
const int64 = (v: number | Uint8Array) => (typeof v === 'number' ? v : new DataView(v.buffer, v.byteOffset).getBigInt64(0, true));

describe('proxy_get_property', () => {
  const setup = async () => {
    const host = new ProxyWasmHost({
      module: await guest({ body: PAUSE }),
      pluginName: 'default.sergo',
      vmId: 'vm-a',
      properties: { 'xds.node.id': 'sidecar~10.0.0.1', 'source.port': 31337n, 'connection.mtls': true },
    });
    host.start();
    return { host, vm: host.vms[0]! };
  };

  test('plugin_* properties on the root context', async () => {
    const { vm } = await setup();
    expect(text(getProp(vm, vm, 'plugin_root_id'))).toBe('sergo');
    expect(text(getProp(vm, vm, 'plugin_name'))).toBe('default.sergo');
    expect(text(getProp(vm, vm, 'plugin_vm_id'))).toBe('vm-a');
  });

  test('paths are NUL-joined tokens; a dotted path is just an unknown name', async () => {
    const { host, vm } = await setup();
    const s = host.stream();
    s.requestHeaders([[':path', '/api/users/7?x=1'], [':method', 'GET'], [':authority', 'svc'], [':scheme', 'http'], ['x-request-id', 'r1']]);
    expect(text(getProp(s, vm, 'request\0path'))).toBe('/api/users/7?x=1');
    expect(text(getProp(s, vm, 'request\0url_path'))).toBe('/api/users/7');
    expect(text(getProp(s, vm, 'request\0query'))).toBe('x=1');
    expect(text(getProp(s, vm, 'request\0method'))).toBe('GET');
    expect(text(getProp(s, vm, 'request\0host'))).toBe('svc');
    expect(text(getProp(s, vm, 'request\0scheme'))).toBe('http');
    expect(text(getProp(s, vm, 'request\0id'))).toBe('r1');
    expect(text(getProp(s, vm, 'request\0protocol'))).toBe('HTTP/1.1');
    expect(text(getProp(host.stream(0, { 'request.protocol': 'HTTP/2' }), vm, 'request\0protocol'))).toBe('HTTP/2'); // per-stream override
    expect(text(getProp(s, vm, 'request\0headers\0x-request-id'))).toBe('r1');
    expect(getProp(s, vm, 'request.path')).toBe(Status.NOT_FOUND);
    expect(getProp(s, vm, 'request\0headers\0absent')).toBe(Status.NOT_FOUND);
    expect(getProp(s, vm, 'no\0such')).toBe(Status.NOT_FOUND);
  });

  test('paths of the same length read in turn at one address each resolve to their own value', async () => {
    const { host, vm } = await setup();
    const s = host.stream();
    s.requestHeaders([[':path', '/p'], [':authority', 'svc']]);
    for (let i = 0; i < 3; i++) {
      expect(text(getProp(s, vm, 'request\0path'))).toBe('/p');
      expect(text(getProp(s, vm, 'request\0host'))).toBe('svc');
    }
  });

  test('request.time is the stream start as 8-byte LE nanoseconds', async () => {
    const { host, vm } = await setup();
    const s = host.stream();
    s.requestHeaders([[':path', '/']]);
    const v = getProp(s, vm, 'request\0time') as Uint8Array;
    expect(v.length).toBe(8);
    expect(int64(v)).toBe(s.startTimeNs);
    expect(int64(v)).toBe(1_767_225_600_000n * 1_000_000n);
  });

  test('response.code: NOT_FOUND before the response, then an 8-byte int', async () => {
    const { host, vm } = await setup();
    const s = host.stream();
    s.requestHeaders([[':path', '/']]);
    expect(getProp(s, vm, 'response\0code')).toBe(Status.NOT_FOUND);
    s.responseHeaders([[':status', '503']]);
    const v = getProp(s, vm, 'response\0code') as Uint8Array;
    expect(v.length).toBe(8);
    expect(int64(v)).toBe(503n);
  });

  test('request properties are NOT_FOUND on the root context', async () => {
    const { vm } = await setup();
    expect(getProp(vm, vm, 'request\0path')).toBe(Status.NOT_FOUND);
    expect(getProp(vm, vm, 'response\0code')).toBe(Status.NOT_FOUND);
  });

  test('host-supplied properties by dotted name; bigint → 8-byte int, bool → 1 byte', async () => {
    const { vm } = await setup();
    expect(text(getProp(vm, vm, 'xds\0node\0id'))).toBe('sidecar~10.0.0.1');
    expect(int64(getProp(vm, vm, 'source\0port'))).toBe(31337n);
    expect(getProp(vm, vm, 'connection\0mtls')).toEqual(new Uint8Array([1]));
  });

  test('per-stream properties and proxy_set_property values', async () => {
    const { host, vm } = await setup();
    const s = host.stream(0, { 'source.address': '10.1.2.3:4567' });
    s.requestHeaders([[':path', '/']]);
    expect(text(getProp(s, vm, 'source\0address'))).toBe('10.1.2.3:4567');
    const [kp, kl] = poke(vm, 1024, 'my_state');
    const [vp, vl] = poke(vm, 2048, 'v1');
    expect(s.invoke('call_proxy_set_property', kp, kl, vp, vl)).toBe(Status.OK);
    expect(text(getProp(s, vm, 'my_state'))).toBe('v1');
    expect(vm.invoke('call_proxy_set_property', kp, kl, vp, vl)).toBe(Status.NOT_FOUND); // no stream info
  });
});

describe('configuration buffers', () => {
  // Each callback tries to read the plugin (7) and VM (6) configuration and records the status:
  // [100] on_context_create(root), [104] on_vm_start, [108] on_configure (plugin config);
  // [112] on_vm_start (vm config); [116] on_request_headers (plugin); [120] on_request_headers (vm);
  // [124] on_tick (plugin); the bytes read in on_configure are at [8]/[12].
  const read = (at: number, type: number) =>
    `(i32.store (i32.const ${at}) (call $proxy_get_buffer_bytes (i32.const ${type}) (i32.const 0) (i32.const 1000) (i32.const 8) (i32.const 12)))`;
  const body = `
    (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
      (if (i32.eqz (local.get $parent)) (then ${read(100, 7)})))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      ${read(104, 7)} ${read(112, 6)}
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) ${read(108, 7)} (i32.const 1))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${read(116, 7)} ${read(120, 6)} (i32.const 0))
    (func (export "proxy_on_tick") (param i32) ${read(124, 7)})`;

  test('the plugin configuration is readable only while configuring (on_configure)', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body }), configuration: '{"version":1}', vmConfiguration: 'vmcfg' });
    host.start();
    const vm = host.vms[0]!;
    expect(u32(vm, 108)).toBe(Status.OK);
    expect(new TextDecoder().decode(peek(vm, u32(vm, 8), u32(vm, 12)))).toBe('{"version":1}');
    // Envoy passes the plugin to the root's on_context_create too, but not to on_vm_start.
    expect(u32(vm, 100)).toBe(Status.OK);
    expect(u32(vm, 104)).toBe(Status.NOT_FOUND);
    host.stream().requestHeaders([[':path', '/']]);
    expect(u32(vm, 116)).toBe(Status.NOT_FOUND);
    host.advance(5);
    expect(u32(vm, 124)).toBe(Status.NOT_FOUND);
  });

  test('the VM configuration is readable in on_vm_start (and, in Envoy, at any time)', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body }), vmConfiguration: 'vmcfg' });
    host.start();
    const vm = host.vms[0]!;
    expect(u32(vm, 112)).toBe(Status.OK);
    host.stream().requestHeaders([[':path', '/']]);
    expect(u32(vm, 120)).toBe(Status.OK);
    expect(retText(vm)).toBe('vmcfg');
  });

  test('configure() runs on_configure again with the new configuration on every VM', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body }), configuration: 'old', vms: 2 });
    host.start();
    expect(host.configure('new-config')).toBe(true);
    for (const vm of host.vms) expect(new TextDecoder().decode(peek(vm, u32(vm, 8), u32(vm, 12)))).toBe('new-config');
  });

  test('start and size are clamped to the buffer; unknown buffer types are BAD_ARGUMENT', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body: PAUSE }), vmConfiguration: 'abcdef' });
    host.start();
    const vm = host.vms[0]!;
    expect(vm.invoke('call_proxy_get_buffer_bytes', BufferType.VM_CONFIGURATION, 2, 3, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect(retText(vm)).toBe('cde');
    expect(vm.invoke('call_proxy_get_buffer_bytes', BufferType.VM_CONFIGURATION, 4, 100, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect(retText(vm)).toBe('ef');
    expect(vm.invoke('call_proxy_get_buffer_bytes', BufferType.VM_CONFIGURATION, 50, 1, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect([u32(vm, RET_PTR), u32(vm, RET_SIZE)]).toEqual([0, 0]);
    expect(vm.invoke('call_proxy_get_buffer_bytes', 9, 0, 1, RET_PTR, RET_SIZE)).toBe(Status.BAD_ARGUMENT);
    expect(vm.invoke('call_proxy_get_buffer_bytes', BufferType.HTTP_CALL_RESPONSE_BODY, 0, 1, RET_PTR, RET_SIZE)).toBe(Status.NOT_FOUND);
  });
});

describe('bodies', () => {
  // on_request_body buffers (returns StopIterationAndBuffer) until end_of_stream, then prepends
  // "<" and continues.
  const body = `
    (func (export "proxy_on_request_body") (param $id i32) (param $size i32) (param $eos i32) (result i32)
      (i32.store (i32.const 64) (local.get $size))
      (if (result i32) (local.get $eos)
        (then
          (drop (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 1)))
          (i32.const 0))
        (else (i32.const 1))))`;

  test('body_size grows while the filter buffers; set_buffer_bytes changes what is forwarded', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: '<' } }) });
    host.start();
    const vm = host.vms[0]!;
    const s = host.stream();
    s.requestHeaders([[':path', '/']], false);
    expect(s.requestBody('ab', false).action).toBe('pause');
    expect(u32(vm, 64)).toBe(2);
    const r = s.requestBody('cd', true);
    expect(u32(vm, 64)).toBe(4);
    expect(r.action).toBe('continue');
    expect(new TextDecoder().decode(r.body)).toBe('<abcd');
  });
});

describe('int64 encoding', () => {
  test('negative values are two’s complement, little-endian', async () => {
    const host = new ProxyWasmHost({ module: await guest({}), properties: { 'x.neg': -2n } });
    host.start();
    const vm = host.vms[0]!;
    expect(getProp(vm, vm, 'x\0neg')).toEqual(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(i64(vm, u32(vm, RET_PTR))).toBe(-2n);
  });
});
