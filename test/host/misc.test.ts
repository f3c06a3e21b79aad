// Logging, WASI, clocks, queues, and the functions the host answers without real semantics.
import { describe, expect, test } from 'vitest';
import { ManualClock, ProxyWasmHost, Status } from '../../src/host/index.ts';
import { guest, peek, poke, RET_PTR, RET_SIZE, retText, setU32, u32, u64 } from './wat.ts';

const WASI = ['fd_write', 'clock_time_get', 'random_get', 'environ_sizes_get', 'environ_get', 'args_sizes_get'];

async function setup(opts: Partial<ConstructorParameters<typeof ProxyWasmHost>[0]> = {}) {
  const host = new ProxyWasmHost({ module: await guest({ wasi: WASI }), ...opts });
  host.start();
  return { host, vm: host.vms[0]! };
}

describe('logging', () => {
  test('proxy_log records every level (gating is the guest’s job); level 6 is BAD_ARGUMENT', async () => {
    const seen: string[] = [];
    const { host, vm } = await setup({ onLog: (v, l, m) => seen.push(`${v}:${l}:${m}`) });
    const [p, n] = poke(vm, 1024, 'héllo');
    for (let level = 0; level <= 5; level++) expect(vm.invoke('call_proxy_log', level, p, n)).toBe(Status.OK);
    expect(vm.invoke('call_proxy_log', 6, p, n)).toBe(Status.BAD_ARGUMENT);
    expect(host.logs.map((l) => l.level)).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'critical']);
    expect(seen[0]).toBe('0:trace:héllo');
  });

  test('proxy_get_log_level returns the configured level', async () => {
    const { vm } = await setup({ logLevel: 'warn' });
    expect(vm.invoke('call_proxy_get_log_level', 16)).toBe(Status.OK);
    expect(u32(vm, 16)).toBe(3);
  });

  test('fd_write: stdout → info, stderr → error, one trailing newline dropped, other fds BADF', async () => {
    const { host, vm } = await setup();
    const [a, al] = poke(vm, 1024, 'out: ');
    const [b, bl] = poke(vm, 1040, 'line\n');
    for (const [i, [p, l]] of [[a, al], [b, bl]].entries()) {
      setU32(vm, 2048 + i * 8, p);
      setU32(vm, 2052 + i * 8, l);
    }
    expect(vm.invoke('call_fd_write', 1, 2048, 2, 16)).toBe(0);
    expect(u32(vm, 16)).toBe(10);
    expect(vm.invoke('call_fd_write', 2, 2048, 2, 16)).toBe(0);
    expect(vm.invoke('call_fd_write', 3, 2048, 2, 16)).toBe(8);
    expect(host.logs.map((l) => [l.level, l.message])).toEqual([
      ['info', 'out: line'],
      ['error', 'out: line'],
    ]);
  });

  test('maxLogs bounds the log', async () => {
    const { host, vm } = await setup({ maxLogs: 10 });
    const [p, n] = poke(vm, 1024, 'x');
    for (let i = 0; i < 100; i++) vm.invoke('call_proxy_log', 2, p, n);
    expect(host.logs.length).toBeLessThanOrEqual(12);
    expect(host.logs.length).toBeGreaterThanOrEqual(10);
  });
});

describe('time and randomness', () => {
  test('proxy_get_current_time_nanoseconds and clock_time_get(REALTIME) read the clock', async () => {
    const clock = new ManualClock(1_700_000_000_123);
    const { vm } = await setup({ clock });
    expect(vm.invoke('call_proxy_get_current_time_nanoseconds', 16)).toBe(Status.OK);
    expect(u64(vm, 16)).toBe(1_700_000_000_123_000_000n);
    clock.advance(5);
    expect(vm.invoke('call_clock_time_get', 0, 1n, 24)).toBe(0);
    expect(u64(vm, 24)).toBe(1_700_000_000_128_000_000n);
    expect(vm.invoke('call_clock_time_get', 1, 1n, 32)).toBe(0); // monotonic
    expect(u64(vm, 32)).toBeGreaterThan(0n);
    expect(vm.invoke('call_clock_time_get', 2, 1n, 32)).toBe(58); // process cputime: NOTSUP
  });

  test('random_get fills up to 64 KiB and refuses more', async () => {
    const { vm } = await setup();
    expect(vm.invoke('call_random_get', 4096, 64)).toBe(0);
    expect(peek(vm, 4096, 64).some((b) => b !== 0)).toBe(true);
    expect(vm.invoke('call_random_get', 65536, 65537)).toBe(28);
  });

  test('environ and args', async () => {
    const { vm } = await setup({ environment: { MODE: 'test' } });
    expect(vm.invoke('call_environ_sizes_get', 16, 20)).toBe(0);
    expect([u32(vm, 16), u32(vm, 20)]).toEqual([1, 10]);
    expect(vm.invoke('call_environ_get', 64, 128)).toBe(0);
    expect(u32(vm, 64)).toBe(128);
    expect(new TextDecoder().decode(peek(vm, 128, 10))).toBe('MODE=test\0');
    expect(vm.invoke('call_args_sizes_get', 16, 20)).toBe(0);
    expect([u32(vm, 16), u32(vm, 20)]).toEqual([0, 0]);
  });
});

describe('shared queues', () => {
  test('register, resolve, enqueue (on_queue_ready on the registering root), dequeue', async () => {
    const body = `(func (export "proxy_on_queue_ready") (param $root i32) (param $token i32)
      (i32.store (i32.const 200) (local.get $root)) (i32.store (i32.const 204) (local.get $token)))`;
    const host = new ProxyWasmHost({ module: await guest({ body }), vms: 2 });
    host.start();
    const [vm0, vm1] = host.vms;
    const [np, nl] = poke(vm0!, 1024, 'q');
    poke(vm1!, 1024, 'q');
    expect(vm0!.invoke('call_proxy_register_shared_queue', np, nl, 16)).toBe(Status.OK);
    const token = u32(vm0!, 16);
    expect(vm1!.invoke('call_proxy_resolve_shared_queue', 0, 0, np, nl, 16)).toBe(Status.OK);
    expect(u32(vm1!, 16)).toBe(token);
    expect(vm1!.invoke('call_proxy_dequeue_shared_queue', token, RET_PTR, RET_SIZE)).toBe(Status.EMPTY);
    const [vp, vl] = poke(vm1!, 2048, 'job-1');
    expect(vm1!.invoke('call_proxy_enqueue_shared_queue', token, vp, vl)).toBe(Status.OK);
    await Promise.resolve(); // delivered asynchronously, like Envoy's post to the owner's dispatcher
    await Promise.resolve();
    expect([u32(vm0!, 200), u32(vm0!, 204)]).toEqual([vm0!.rootContextId, token]);
    expect(vm0!.invoke('call_proxy_dequeue_shared_queue', token, RET_PTR, RET_SIZE)).toBe(Status.OK);
    expect(retText(vm0!)).toBe('job-1');
    expect(vm0!.invoke('call_proxy_dequeue_shared_queue', 999, RET_PTR, RET_SIZE)).toBe(Status.NOT_FOUND);
    poke(vm0!, 1024, 'z');
    expect(vm0!.invoke('call_proxy_resolve_shared_queue', 0, 0, np, nl, 16)).toBe(Status.NOT_FOUND);
  });
});

describe('functions without real semantics here answer with a status, never a crash', () => {
  test('gRPC, foreign functions, proxy_done', async () => {
    const { vm } = await setup();
    expect(vm.invoke('call_proxy_grpc_call', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000, 16)).toBe(Status.PARSE_FAILURE);
    expect(vm.invoke('call_proxy_grpc_stream', 0, 0, 0, 0, 0, 0, 0, 0, 16)).toBe(Status.PARSE_FAILURE);
    expect(vm.invoke('call_proxy_grpc_send', 1, 0, 0, 0)).toBe(Status.NOT_FOUND);
    expect(vm.invoke('call_proxy_grpc_cancel', 1)).toBe(Status.NOT_FOUND);
    expect(vm.invoke('call_proxy_grpc_close', 1)).toBe(Status.NOT_FOUND);
    expect(vm.invoke('call_proxy_call_foreign_function', 1024, 4, 0, 0, 8, 12)).toBe(Status.NOT_FOUND);
    expect(vm.invoke('call_proxy_done')).toBe(Status.NOT_FOUND);
    expect(vm.invoke('call_pthread_equal', 3, 3)).toBe(1);
  });

  test('recordCalls keeps every host call', async () => {
    const { host, vm } = await setup({ recordCalls: true });
    vm.invoke('call_proxy_done');
    expect(host.calls).toEqual([{ vm: 0, name: 'env.proxy_done', args: [], result: Status.NOT_FOUND }]);
  });
});
