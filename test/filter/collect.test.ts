// The module runs AssemblyScript's minimal runtime: garbage is swept only when a callback that may
// allocate ends (assembly/abi/exports.ts). What must survive a sweep is whatever a request still
// holds; what must not pile up is every replaced configuration.
import { describe, it, expect } from 'vitest';
import { startSergo, send, rateLimitRule } from './harness.ts';

const paced = { id: 'th', resource: '/pace', strategy: { kind: 'Throttling', intervalMs: 50, queueTimeoutMs: 1000 } };
/** 500 more rules: each configuration allocates enough to grow the heap, so each reload collects. */
const filler = Array.from({ length: 500 }, (_, i) => rateLimitRule(`r${i}`, `/filler/${i}`, 1000, 60_000));
const config = (reload: number) => JSON.stringify({ version: 1, rules: [paced, ...filler, rateLimitRule(`reload${reload}`, `/reload`, 1000, 60_000)] });

describe('collection in the minimal runtime', () => {
  it('a request waiting under a replaced configuration keeps its rules through 40 reloads and is released', () => {
    const { host, started } = startSergo(config(0));
    expect(started).toBe(true);
    expect(send(host, 'GET', '/pace').result.action).toBe('continue');
    const waiting = send(host, 'GET', '/pace');
    expect(waiting.result.action).toBe('pause');
    let resumed = 0;
    waiting.stream.onResume = () => { resumed++; };
    for (let i = 1; i <= 40; i++) expect(host.configure(config(i))).toBe(true);
    host.advance(100);
    expect(resumed).toBe(1);
    waiting.stream.responseHeaders([[':status', '200']]);
    waiting.stream.finish();
    expect(host.vms.some((vm) => vm.failed)).toBe(false);
  });

  it('reloads do not grow linear memory once warm: pages after 20 reloads = pages after 60', () => {
    const { host } = startSergo(config(0));
    const vm = host.vms[0]!;
    for (let i = 1; i <= 20; i++) expect(host.configure(config(i))).toBe(true);
    const warm = vm.memoryPages();
    for (let i = 21; i <= 60; i++) expect(host.configure(config(i))).toBe(true);
    expect(vm.memoryPages()).toBe(warm);
  });

  it('a steady trickle of garbage (more streams open at once than the pool keeps) does not grow memory', () => {
    const { host } = startSergo(config(0));
    const vm = host.vms[0]!;
    const round = () => {
      const open = Array.from({ length: 1500 }, () => send(host, 'GET', '/filler/7').stream);
      for (const s of open) s.finish();
    };
    for (let i = 0; i < 10; i++) round();
    const warm = vm.memoryPages();
    for (let i = 0; i < 60; i++) round();
    expect(vm.memoryPages()).toBe(warm);
  });
});
