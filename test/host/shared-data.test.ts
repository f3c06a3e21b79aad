// Shared data with cpp-host's CAS semantics, exercised through the guest's own host calls
// (call_proxy_get_shared_data / call_proxy_set_shared_data pass-through exports) on two VMs.
import { beforeEach, describe, expect, test } from 'vitest';
import { ProxyWasmHost, SharedDataStore, Status, type Vm } from '../../src/host/index.ts';
import { global, guest, poke, RET_PTR, RET_SIZE, retText, setU32, u32 } from './wat.ts';

const CAS_PTR = 16;
const KEY_A = 1024;
const KEY_B = 1040;
const VAL = 2048;

let host: ProxyWasmHost;
let vm0: Vm;
let vm1: Vm;

const set = (vm: Vm, key: number, value: string, cas: number) => {
  const [vp, vl] = poke(vm, VAL, value);
  return vm.invoke('call_proxy_set_shared_data', key, 1, vp, vl, cas);
};
const get = (vm: Vm, key: number) => {
  setU32(vm, CAS_PTR, 0xdeadbeef);
  const st = vm.invoke('call_proxy_get_shared_data', key, 1, RET_PTR, RET_SIZE, CAS_PTR);
  return st === Status.OK ? { st, value: retText(vm), cas: u32(vm, CAS_PTR) } : { st };
};

beforeEach(async () => {
  host = new ProxyWasmHost({ module: await guest({ data: { [KEY_A]: 'a', [KEY_B]: 'b' } }), vms: 2 });
  expect(host.start()).toBe(true);
  [vm0, vm1] = host.vms as [Vm, Vm];
});

describe('shared data (cpp-host CAS semantics)', () => {
  test('get of a missing key is NOT_FOUND and writes nothing', () => {
    expect(get(vm0, KEY_A).st).toBe(Status.NOT_FOUND);
    expect(u32(vm0, CAS_PTR)).toBe(0xdeadbeef);
  });

  test('a missing key is always written, whatever the cas', () => {
    expect(set(vm0, KEY_A, 'one', 12345)).toBe(Status.OK);
    // the first set in the process takes cas 1
    expect(get(vm0, KEY_A)).toEqual({ st: Status.OK, value: 'one', cas: 1 });
  });

  test('cas 0 writes unconditionally; a stale cas is CAS_MISMATCH; the fresh cas writes', () => {
    expect(set(vm0, KEY_A, 'one', 0)).toBe(Status.OK); // cas 1
    expect(set(vm0, KEY_A, 'two', 0)).toBe(Status.OK); // cas 2, unconditional
    expect(get(vm0, KEY_A)).toEqual({ st: Status.OK, value: 'two', cas: 2 });
    expect(set(vm0, KEY_A, 'stale', 1)).toBe(Status.CAS_MISMATCH);
    expect(Status.CAS_MISMATCH).toBe(8);
    expect(get(vm0, KEY_A)).toEqual({ st: Status.OK, value: 'two', cas: 2 });
    expect(set(vm0, KEY_A, 'three', 2)).toBe(Status.OK);
    expect(get(vm0, KEY_A)).toEqual({ st: Status.OK, value: 'three', cas: 3 });
  });

  test('one counter across keys and VMs; values are visible to every VM', () => {
    expect(set(vm0, KEY_A, 'a1', 0)).toBe(Status.OK); // cas 1
    expect(set(vm1, KEY_B, 'b1', 0)).toBe(Status.OK); // cas 2 (another key, another VM)
    expect(set(vm1, KEY_A, 'a2', 1)).toBe(Status.OK); // cas 3
    expect(get(vm0, KEY_B)).toEqual({ st: Status.OK, value: 'b1', cas: 2 });
    expect(get(vm0, KEY_A)).toEqual({ st: Status.OK, value: 'a2', cas: 3 });
    // vm0 read cas 1 before vm1's write: its update now loses
    expect(set(vm0, KEY_A, 'lost', 1)).toBe(Status.CAS_MISMATCH);
    expect(host.sharedData.get('a')).toEqual({ value: new TextEncoder().encode('a2'), cas: 3 });
    expect(host.sharedData.size).toBe(2);
    expect(host.sharedData.keys().sort()).toEqual(['a', 'b']);
  });

  test('an empty value is stored and read back as (0, 0) without allocating', () => {
    expect(vm0.invoke('call_proxy_set_shared_data', KEY_A, 1, VAL, 0, 0)).toBe(Status.OK);
    setU32(vm0, RET_PTR, 0xaaaaaaaa);
    setU32(vm0, RET_SIZE, 0xaaaaaaaa);
    const before = global(vm0, 'mallocs');
    expect(vm0.invoke('call_proxy_get_shared_data', KEY_A, 1, RET_PTR, RET_SIZE, CAS_PTR)).toBe(Status.OK);
    expect([u32(vm0, RET_PTR), u32(vm0, RET_SIZE)]).toEqual([0, 0]);
    expect(global(vm0, 'mallocs')).toBe(before);
  });

  test('the value is copied: later guest writes to its buffer do not change the store', () => {
    set(vm0, KEY_A, 'abc', 0);
    poke(vm0, VAL, 'xyz');
    expect(get(vm1, KEY_A)).toMatchObject({ value: 'abc' });
  });

  test('a rewrite of the same length is copied too, and leaves earlier copies and other keys alone', () => {
    set(vm0, KEY_A, 'abc', 0);
    set(vm0, KEY_B, 'defgh', 0);
    const before = host.sharedData.get('a')!.value;
    set(vm0, KEY_A, 'xyz', 0); // same length: written over the stored bytes
    poke(vm0, VAL, 'uvw');
    expect(get(vm1, KEY_A)).toMatchObject({ value: 'xyz' });
    expect(get(vm1, KEY_B)).toMatchObject({ value: 'defgh' });
    expect(new TextDecoder().decode(before)).toBe('abc');
    set(vm0, KEY_A, 'longer', 0);
    expect(get(vm1, KEY_A)).toMatchObject({ value: 'longer' });
    expect(get(vm1, KEY_B)).toMatchObject({ value: 'defgh' });
  });

  test('keys of the same length read in turn each find their own value', () => {
    set(vm0, KEY_A, 'for a', 0);
    set(vm0, KEY_B, 'for b', 0);
    for (let i = 0; i < 3; i++) {
      expect(get(vm0, KEY_A)).toMatchObject({ value: 'for a' });
      expect(get(vm0, KEY_B)).toMatchObject({ value: 'for b' });
    }
    expect(get(vm0, KEY_A)).toMatchObject({ value: 'for a' });
    poke(vm0, KEY_A, 'b'); // the guest's key bytes change in place: now they spell "b"
    expect(get(vm0, KEY_A)).toMatchObject({ value: 'for b' });
  });
});

describe('SharedDataStore namespaces', () => {
  test('keys are per vm_id; hosts with the same vm_id share them', async () => {
    const store = new SharedDataStore();
    const module = await guest({ data: { [KEY_A]: 'a' } });
    const mk = (vmId: string) => new ProxyWasmHost({ module, vmId, sharedData: store });
    const [h1, h2, h3] = [mk(''), mk(''), mk('other')];
    for (const h of [h1, h2, h3]) h.start();
    set(h1.vms[0]!, KEY_A, 'shared', 0);
    expect(h2.sharedData.get('a')?.cas).toBe(1);
    expect(h3.sharedData.get('a')).toBeUndefined();
    set(h3.vms[0]!, KEY_A, 'own', 0);
    expect(h3.sharedData.get('a')?.cas).toBe(2); // still one process-wide counter
  });

  test('the counter skips 0 when it wraps', () => {
    const store = new SharedDataStore();
    (store as unknown as { cas: number }).cas = 0xffffffff;
    store.set('', 'k', new Uint8Array([1]), 0);
    expect(store.get('', 'k')?.cas).toBe(0xffffffff);
    store.set('', 'k', new Uint8Array([2]), 0);
    expect(store.get('', 'k')?.cas).toBe(1);
  });
});
