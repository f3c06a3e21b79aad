import { describe, it, expect } from 'vitest';
import { startSergo, send, sharedI64, EPOCH_MS } from './harness.ts';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';
import { metricName } from './harness.ts';
import type { HttpStream } from '../../src/host/index.ts';

const rule = { id: 'th', resource: '/pace', strategy: { kind: 'Throttling', intervalMs: 20, queueTimeoutMs: 500 } };
const KEY = 'sergo:ThrottlingStrategy:th#i=20,q=500';

describe('ThrottlingStrategy (pacing without blocking a worker)', () => {
  it('100 requests at once over 2 VMs: 26 admitted at >= 20 ms spacing in slot order, 74 rejected', () => {
    const { host, clock } = startSergo({ version: 1, rules: [rule] }, { vms: 2 });
    const t0 = clock.nowMs();
    const admitted: { stream: HttpStream; order: number; resumedAt?: number; immediate: boolean }[] = [];
    let rejected = 0;
    for (let i = 0; i < 100; i++) {
      const { stream, result } = send(host, 'GET', '/pace', i % 2);
      if (result.action === 'local-response') { rejected++; continue; }
      const entry = { stream, order: i, immediate: result.action === 'continue', resumedAt: undefined as number | undefined };
      if (entry.immediate) entry.resumedAt = clock.nowMs();
      else {
        expect(result.action).toBe('pause');
        stream.onResume = () => { entry.resumedAt = clock.nowMs(); };
      }
      admitted.push(entry);
    }
    expect(admitted.length).toBe(26);
    expect(admitted.filter((a) => a.immediate).length).toBe(1);
    expect(rejected).toBe(74);
    expect(host.metric(metricName('th', '/pace', 'Throttling', 'requests_queued'))).toBe(25n);

    host.advance(600);
    const times = admitted.map((a) => a.resumedAt);
    expect(times.every((t) => t !== undefined)).toBe(true);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(20);   // spacing, in slot (= arrival) order
      expect(times[i]! - t0).toBeLessThanOrEqual(500 + 20);            // within the queue timeout (+ one tick)
    }
    expect(admitted.every((a) => a.stream.resumeCount <= 1)).toBe(true);
    expect(admitted.filter((a) => !a.immediate).every((a) => a.stream.resumeCount === 1)).toBe(true);
    expect(host.metric(metricName('th', '/pace', 'Throttling', 'requests_dequeued'))).toBe(25n);
    for (const a of admitted) { a.stream.responseHeaders([[':status', '200']]); a.stream.finish(); }
    // Nothing resumes twice even with more ticks.
    host.advance(1000);
    expect(admitted.every((a) => a.stream.resumeCount <= 1)).toBe(true);
  });

  it('streams that end while queued leave the queue and give their slot back', () => {
    const { host, clock } = startSergo({ version: 1, rules: [rule] }, { vms: 2 });
    const queued: HttpStream[] = [];
    for (let i = 0; i < 26; i++) {
      const { stream, result } = send(host, 'GET', '/pace', i % 2);
      expect(result.action).not.toBe('local-response');
      if (result.action === 'pause') queued.push(stream);
    }
    expect(send(host, 'GET', '/pace').result.action).toBe('local-response');   // full: slot 520 > 500
    const lastSlot = sharedI64(host, KEY)!;
    // The 5 latest slots end early (client gone), newest first: each slot is returned.
    const gone = queued.splice(-5).reverse();
    for (const s of gone) s.finish();
    expect(sharedI64(host, KEY)).toBe(lastSlot - 100n);
    // A queued stream in the middle ends: it leaves the queue (never resumed) though its slot stays taken.
    const middle = queued.splice(5, 1)[0];
    middle.finish();
    // Five new requests take the returned slots.
    for (let i = 0; i < 5; i++) expect(send(host, 'GET', '/pace', i % 2).result.action).toBe('pause');
    expect(send(host, 'GET', '/pace').result.action).toBe('local-response');
    let resumes = 0;
    for (const s of queued) s.onResume = () => resumes++;
    host.advance(600);
    expect(middle.resumeCount).toBe(0);
    expect(gone.every((s) => s.resumeCount === 0)).toBe(true);
    expect(resumes).toBe(queued.length);
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
  });

  it('bounds the queue per VM; overflow gets the fallback', () => {
    const { host } = startSergo({ version: 1, options: { maxQueuedPerVm: 3 }, rules: [{ ...rule, strategy: { kind: 'Throttling', intervalMs: 10, queueTimeoutMs: 10_000 } }] }, { vms: 1 });
    const actions = Array.from({ length: 6 }, () => send(host, 'GET', '/pace').result.action);
    expect(actions).toEqual(['continue', 'pause', 'pause', 'pause', 'local-response', 'local-response']);
    expect(host.metric('sergo.queue_overflow')).toBe(2n);
  });

  it('resumes only at the slot time (virtual clock, tick on the slot grid)', () => {
    const { host, clock } = startSergo({ version: 1, rules: [{ ...rule, strategy: { kind: 'Throttling', intervalMs: 50, queueTimeoutMs: 1000 } }] });
    expect(send(host, 'GET', '/pace').result.action).toBe('continue');
    const { stream } = send(host, 'GET', '/pace');
    let at = 0;
    stream.onResume = () => { at = clock.nowMs(); };
    host.advance(49);
    expect(stream.resumeCount).toBe(0);
    host.advance(1);
    expect(stream.resumeCount).toBe(1);
    expect(at - EPOCH_MS).toBe(50);
  });
});

describe('ThrottlingStrategy across a reload', () => {
  it('requests queued under the old configuration still resume when the new one has no throttling', () => {
    const { host } = startSergo({ version: 1, rules: [rule] });
    expect(send(host, 'GET', '/pace').result.action).toBe('continue');
    const { stream, result } = send(host, 'GET', '/pace');
    expect(result.action).toBe('pause');
    expect(host.configure(JSON.stringify({ version: 1, rules: [] }))).toBe(true);
    host.advance(20);
    expect(stream.resumeCount).toBe(1);
    expect(host.vms[0].tickPeriodMs).toBe(METRICS_FLUSH_MS - 20);   // armed for the flush of the counts (at 1,000)…
    host.advance(METRICS_FLUSH_MS);
    expect(host.vms[0].tickPeriodMs).toBe(0);    // …then the idle tick is switched off
  });
});
