// Metrics: per-VM ids, one process-wide stat per name, Envoy's status codes.
import { beforeEach, describe, expect, test } from 'vitest';
import { MetricType, ProxyWasmHost, Status, type Vm } from '../../src/host/index.ts';
import { guest, RET_PTR, u32, u64 } from './wat.ts';

const NAME = 1024; // "requests"
const GAUGE = 1040; // "inflight"
const HIST = 1056; // "latency"

let host: ProxyWasmHost;
let vm0: Vm;
let vm1: Vm;

const define = (vm: Vm, type: number, name: number, len: number) => {
  const st = vm.invoke('call_proxy_define_metric', type, name, len, RET_PTR);
  return st === Status.OK ? u32(vm, RET_PTR) : -(st as number);
};
const getMetric = (vm: Vm, id: number) => {
  const st = vm.invoke('call_proxy_get_metric', id, 16);
  return st === Status.OK ? u64(vm, 16) : st;
};

beforeEach(async () => {
  const module = await guest({ data: { [NAME]: 'requests', [GAUGE]: 'inflight', [HIST]: 'latency' } });
  host = new ProxyWasmHost({ module, vms: 2 });
  expect(host.start()).toBe(true);
  [vm0, vm1] = host.vms as [Vm, Vm];
});

describe('metrics', () => {
  test('the same counter name defined from two VMs is one stat', () => {
    const c0 = define(vm0, MetricType.COUNTER, NAME, 8);
    const c1 = define(vm1, MetricType.COUNTER, NAME, 8);
    expect(c0).toBeGreaterThan(0);
    expect(c0 & 3).toBe(MetricType.COUNTER); // the id's low bits carry the type, as in Envoy
    expect(vm0.invoke('call_proxy_increment_metric', c0, 2n)).toBe(Status.OK);
    expect(vm1.invoke('call_proxy_increment_metric', c1, 3n)).toBe(Status.OK);
    expect(vm1.invoke('call_proxy_record_metric', c1, 10n)).toBe(Status.OK); // counter: record adds
    expect(host.metric('requests')).toBe(15n);
    expect(getMetric(vm0, c0)).toBe(15n);
    expect(getMetric(vm1, c1)).toBe(15n);
    expect(host.metrics().get('requests')).toEqual({ type: 'counter', value: 15n });
  });

  test('a counter refuses a negative or zero delta (BAD_ARGUMENT)', () => {
    const c = define(vm0, MetricType.COUNTER, NAME, 8);
    expect(vm0.invoke('call_proxy_increment_metric', c, -1n)).toBe(Status.BAD_ARGUMENT);
    expect(vm0.invoke('call_proxy_increment_metric', c, 0n)).toBe(Status.BAD_ARGUMENT);
    expect(host.metric('requests')).toBe(0n);
  });

  test('a gauge adds and subtracts with increment, and record sets it', () => {
    const g0 = define(vm0, MetricType.GAUGE, GAUGE, 8);
    const g1 = define(vm1, MetricType.GAUGE, GAUGE, 8);
    expect(g0 & 3).toBe(MetricType.GAUGE);
    vm0.invoke('call_proxy_increment_metric', g0, 5n);
    vm1.invoke('call_proxy_increment_metric', g1, -2n);
    expect(host.metric('inflight')).toBe(3n);
    vm1.invoke('call_proxy_record_metric', g1, 42n);
    expect(getMetric(vm0, g0)).toBe(42n);
  });

  test('a histogram records; increment and get are BAD_ARGUMENT', () => {
    const h = define(vm0, MetricType.HISTOGRAM, HIST, 7);
    expect(vm0.invoke('call_proxy_record_metric', h, 7n)).toBe(Status.OK);
    expect(vm0.invoke('call_proxy_record_metric', h, 5n)).toBe(Status.OK);
    expect(vm0.invoke('call_proxy_increment_metric', h, 1n)).toBe(Status.BAD_ARGUMENT);
    expect(getMetric(vm0, h)).toBe(Status.BAD_ARGUMENT);
    expect(host.metrics().get('latency')).toEqual({ type: 'histogram', value: 12n, count: 2 });
  });

  test('unknown ids are NOT_FOUND; ids are per VM; a bad type is BAD_ARGUMENT', () => {
    const c0 = define(vm0, MetricType.COUNTER, NAME, 8);
    expect(getMetric(vm0, c0 + 4)).toBe(Status.NOT_FOUND);
    expect(vm0.invoke('call_proxy_increment_metric', c0 + 4, 1n)).toBe(Status.NOT_FOUND);
    expect(vm0.invoke('call_proxy_record_metric', c0 + 4, 1n)).toBe(Status.NOT_FOUND);
    expect(getMetric(vm1, c0)).toBe(Status.NOT_FOUND); // vm1 never defined it
    expect(define(vm0, 3, NAME, 8)).toBe(-Status.BAD_ARGUMENT);
    // defining again returns a new id for the same stat
    const again = define(vm0, MetricType.COUNTER, NAME, 8);
    expect(again).not.toBe(c0);
    vm0.invoke('call_proxy_increment_metric', again, 1n);
    expect(getMetric(vm0, c0)).toBe(1n);
  });
});
