// The process-wide shared key-value store with cpp-host's exact CAS semantics (src/shared_data.cc):
//  * one CAS counter for the whole store, starting at 1, taken by every successful set (all keys,
//    all VMs), never 0 (it skips 0 when it wraps);
//  * cas == 0 writes unconditionally;
//  * a key that does not exist is always written, whatever cas says (no create-if-absent);
//  * an existing key with cas != its stored cas → CAS_MISMATCH;
//  * no delete in ABI 0.2.1.
// Keys are namespaced by vm_id (Istio leaves vm_id empty, so every plugin in a proxy shares one
// namespace). Keys are byte strings.
// A set of the same length as the stored value overwrites the stored bytes in place (no new
// buffer per CAS write on the hot path): the store's own buffers are handed out only by get(),
// whose callers copy them (ProxyWasmHost.sharedData, proxy_get_shared_data).
import { Status } from './abi.ts';

export interface SharedEntry {
  /** the store's own bytes: overwritten in place by a later set of the same length (copy to keep) */
  value: Uint8Array;
  cas: number;
}

/** Values up to half a slab are cut from shared slabs, as Node's Buffer pool does. */
const SLAB = 8192;

export class SharedDataStore {
  private readonly spaces = new Map<string, Map<string, SharedEntry>>();
  private cas = 1;
  private slab = new ArrayBuffer(SLAB);
  private used = 0;

  // the namespace of the last call: every call of one plugin names the same one
  private lastVmId: string | undefined;
  private lastSpace: Map<string, SharedEntry> | undefined;

  private space(vmId: string): Map<string, SharedEntry> {
    if (vmId === this.lastVmId) return this.lastSpace!;
    let s = this.spaces.get(vmId);
    if (!s) this.spaces.set(vmId, (s = new Map()));
    this.lastVmId = vmId;
    return (this.lastSpace = s);
  }

  private nextCas(): number {
    const c = this.cas;
    this.cas = (this.cas + 1) >>> 0;
    if (this.cas === 0) this.cas = 1;
    return c;
  }

  get(vmId: string, key: string): SharedEntry | undefined {
    return this.space(vmId).get(key);
  }

  /**
   * Returns Status.OK or Status.CAS_MISMATCH. `value` is copied unless `owned` (the store then
   * keeps that buffer, and a later set of the same length writes over it).
   */
  set(vmId: string, key: string, value: Uint8Array, cas: number, owned = false): number {
    const space = this.space(vmId);
    const entry = space.get(key);
    if (entry) {
      if (cas !== 0 && cas !== entry.cas) return Status.CAS_MISMATCH;
      entry.value = owned ? value : this.overwrite(entry.value, value);
      entry.cas = this.nextCas();
    } else {
      space.set(key, { value: owned ? value : this.copy(value), cas: this.nextCas() });
    }
    return Status.OK;
  }

  /** `value` written over `stored` when the length is the same, else a copy of it. */
  private overwrite(stored: Uint8Array, value: Uint8Array): Uint8Array {
    if (stored.length !== value.length) return this.copy(value);
    if (stored !== value) stored.set(value);
    return stored;
  }

  /** A copy of `value`: a new ArrayBuffer per value costs ~1 µs (10,000 rules write 10,000 records). */
  private copy(value: Uint8Array): Uint8Array {
    const len = value.length;
    if (len > SLAB >>> 1) return value.slice();
    if (this.used + len > SLAB) {
      this.slab = new ArrayBuffer(SLAB);
      this.used = 0;
    }
    const out = new Uint8Array(this.slab, this.used, len);
    this.used = (this.used + len + 7) & ~7; // 8-byte aligned, for typed views of a value
    out.set(value);
    return out;
  }

  keys(vmId: string): string[] {
    return [...(this.spaces.get(vmId)?.keys() ?? [])];
  }

  size(vmId: string): number {
    return this.spaces.get(vmId)?.size ?? 0;
  }
}

