// Ticks: one timer per VM's root context, fired by advance() in time order with the clock at the
// due time.
import { describe, expect, test } from 'vitest';
import { ManualClock, ProxyWasmHost, type Vm } from '../../src/host/index.ts';
import { guest, u32, u64 } from './wat.ts';

// on_tick reads the time the guest sees (proxy_get_current_time_nanoseconds → [64]), records the
// root id it was called with ([72]) and logs "tick".
const TICKER = `
  (func (export "proxy_on_tick") (param $root i32)
    (drop (call $proxy_get_current_time_nanoseconds (i32.const 64)))
    (i32.store (i32.const 72) (local.get $root))
    (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 4))))`;

async function setup(periods: number[], firstContextId?: number) {
  const clock = new ManualClock(1_000_000);
  const fired: { vm: number; guestMs: number; hostMs: number; root: number }[] = [];
  let host: ProxyWasmHost | undefined;
  host = new ProxyWasmHost({
    module: await guest({ body: TICKER, data: { 1024: 'tick' } }),
    vms: periods.length,
    clock,
    firstContextId,
    onLog: (vm, _level, msg) => {
      if (msg !== 'tick') return;
      const v = host!.vms[vm]!;
      fired.push({ vm, guestMs: Number(u64(v, 64) / 1_000_000n) - 1_000_000, hostMs: clock.nowMs() - 1_000_000, root: u32(v, 72) });
    },
  });
  host.start();
  host.vms.forEach((vm, i) => vm.invoke('call_proxy_set_tick_period_milliseconds', periods[i]!));
  return { host, clock, fired };
}

describe('ticks', () => {
  test('two VMs with different periods fire in time order, each with the clock at its due time', async () => {
    const { host, fired, clock } = await setup([30, 50]);
    host.advance(160);
    expect(fired.map((f) => [f.vm, f.guestMs])).toEqual([
      [0, 30],
      [1, 50],
      [0, 60],
      [0, 90],
      [1, 100],
      [0, 120],
      [0, 150], // a tie at 150: the lower VM index first
      [1, 150],
    ]);
    expect(fired.every((f) => f.guestMs === f.hostMs)).toBe(true);
    expect(clock.nowMs()).toBe(1_000_160);
  });

  test('on_tick gets the VM’s own root context id (not always 1)', async () => {
    const { host, fired } = await setup([10, 10], 7);
    expect(host.vms.map((v: Vm) => v.rootContextId)).toEqual([7, 8]);
    host.advance(10);
    expect(fired.map((f) => f.root)).toEqual([7, 8]);
  });

  test('period 0 stops the timer; a new period counts from now', async () => {
    const { host, fired } = await setup([20]);
    host.advance(45); // ticks at 20, 40
    host.vms[0]!.invoke('call_proxy_set_tick_period_milliseconds', 0);
    host.advance(100);
    expect(fired.map((f) => f.guestMs)).toEqual([20, 40]);
    host.vms[0]!.invoke('call_proxy_set_tick_period_milliseconds', 30); // at 145
    host.advance(70);
    expect(fired.map((f) => f.guestMs)).toEqual([20, 40, 175, 205]);
    expect(host.vms[0]!.tickPeriodMs).toBe(30);
  });

  test('advancing in small steps fires the same ticks as one big step', async () => {
    const a = await setup([7, 11]);
    const b = await setup([7, 11]);
    a.host.advance(100);
    for (let i = 0; i < 100; i++) b.host.advance(1);
    expect(b.fired).toEqual(a.fired);
  });

  test('realTimers: ticks come from timers', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body: TICKER, data: { 1024: 'tick' } }), realTimers: true });
    host.start();
    host.vms[0]!.invoke('call_proxy_set_tick_period_milliseconds', 5);
    // Two ticks, however late a loaded machine runs the timers.
    for (const deadline = Date.now() + 5000; host.logs.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    host.close();
    const n = host.logs.length;
    expect(n).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(host.logs.length).toBe(n); // close() stopped them
  });
});
