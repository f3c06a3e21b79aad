// Counting an event once for all the VMs that see it: the first VM to win a compare-and-swap that
// writes the event's digest into a shared-data key counts it; the others find the digest there.
// For sergo.config_accepted: every worker VM (and in Envoy the main thread's and the canary's) runs
// on_configure for the same configuration, which is one configuration accepted, not one per VM.
import { sharedGet, sharedSet, hostPtr, hostSize, hostCas, Status, Bytes } from "../abi";

const VALUE: usize = memory.data(8, 8);

/** FNV-1a, 64 bits, over bytes (0 is kept for "none"). */
export function digestOf(ptr: usize, len: usize): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i: usize = 0; i < len; i++) h = (h ^ <u64>load<u8>(ptr + i)) * 0x100000001b3;
  return h == 0 ? 1 : h;
}

/** Whether this VM is the first to record `digest` under `key` (a later, different digest replaces it). */
export function firstToRecord(key: Bytes, digest: u64): bool {
  for (let attempt = 0; attempt < 64; attempt++) {
    if (sharedGet(key.ptr, key.length) != Status.OK) {
      // A write to a missing key succeeds whatever its cas: create it as "none", then race on it.
      store<u64>(VALUE, 0);
      sharedSet(key.ptr, key.length, VALUE, 8, 0);
      continue;
    }
    if (hostSize() == 8 && load<u64>(hostPtr()) == digest) return false;
    store<u64>(VALUE, digest);
    const status = sharedSet(key.ptr, key.length, VALUE, 8, hostCas());
    if (status == Status.OK) return true;
    if (status != Status.CAS_MISMATCH) return false;
  }
  return false;
}
