// Counting an event once for all the VMs that see it: the first VM to win a compare-and-swap that
// writes the event's digest into a shared-data key counts it; the others find the digest there.
// For sergo.config_accepted: every worker VM (and in Envoy the main thread's and the canary's) runs
// on_configure for the same configuration, which is one configuration accepted, not one per VM.
import { sharedGet, sharedSet, hostPtr, hostSize, hostCas, Status, Bytes } from "../abi";

const VALUE: usize = memory.data(8, 8);

/** A 64-bit digest of bytes, eight at a time (a configuration of 10,000 rules is 2 MB; a byte at a
 *  time cost 3 ms of every configure). 0 is kept for "none". */
export function digestOf(ptr: usize, len: usize): u64 {
  let h: u64 = 0xcbf29ce484222325 ^ <u64>len;
  const end = ptr + len;
  let p = ptr;
  for (; p + 8 <= end; p += 8) h = rotl<u64>((h ^ load<u64>(p)) * 0x9e3779b97f4a7c15, 31);
  for (; p < end; p++) h = (h ^ <u64>load<u8>(p)) * 0x100000001b3;
  h = (h ^ (h >> 33)) * 0xff51afd7ed558ccd;
  h ^= h >> 33;
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
