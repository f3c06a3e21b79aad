// The process-wide shared key-value store with cpp-host's exact CAS semantics (src/shared_data.cc):
//  * one CAS counter for the whole store, starting at 1, taken by every successful set (all keys,
//    all VMs), never 0 (it skips 0 when it wraps);
//  * cas == 0 writes unconditionally;
//  * a key that does not exist is always written, whatever cas says (no create-if-absent);
//  * an existing key with cas != its stored cas → CAS_MISMATCH;
//  * no delete in ABI 0.2.1.
// Keys are namespaced by vm_id (Istio leaves vm_id empty, so every plugin in a proxy shares one
// namespace). Keys are byte strings.
import { Status } from './abi.ts';

export interface SharedEntry {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly spaces = new Map<string, Map<string, SharedEntry>>();
  private cas = 1;

  private space(vmId: string): Map<string, SharedEntry> {
    let s = this.spaces.get(vmId);
    if (!s) this.spaces.set(vmId, (s = new Map()));
    return s;
  }

  private nextCas(): number {
    const c = this.cas;
    this.cas = (this.cas + 1) >>> 0;
    if (this.cas === 0) this.cas = 1;
    return c;
  }

  get(vmId: string, key: string): SharedEntry | undefined {
    return this.spaces.get(vmId)?.get(key);
  }

  /** Returns Status.OK or Status.CAS_MISMATCH. `value` is copied unless `owned`. */
  set(vmId: string, key: string, value: Uint8Array, cas: number, owned = false): number {
    const space = this.space(vmId);
    const entry = space.get(key);
    if (entry) {
      if (cas !== 0 && cas !== entry.cas) return Status.CAS_MISMATCH;
      entry.value = owned ? value : value.slice();
      entry.cas = this.nextCas();
    } else {
      space.set(key, { value: owned ? value : value.slice(), cas: this.nextCas() });
    }
    return Status.OK;
  }

  keys(vmId: string): string[] {
    return [...(this.spaces.get(vmId)?.keys() ?? [])];
  }

  size(vmId: string): number {
    return this.spaces.get(vmId)?.size ?? 0;
  }
}
