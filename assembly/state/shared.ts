// Shared-data records: the only state that crosses Envoy's worker VMs. A decision is one get and
// one CAS set; on CAS_MISMATCH the read-modify-write is retried a bounded number of times.
// cpp-host semantics: writing a missing key always succeeds, whatever the cas (packed records are
// therefore created in zeros and read again before their first edit: packed.ts).
import { sharedGet, sharedSet, hostPtr, hostSize, hostCas, Status } from "../abi";

/** Outcome of an update attempt. */
export const enum Update { Written, Unchanged, Exhausted }

/** Scratch for records that must be built from nothing (missing or malformed value). */
const SCRATCH_SIZE: usize = 4096;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE, 8);

export let casRetries: i32 = 16;
export function setCasRetries(n: i32): void { casRetries = n; }

/**
 * An edit of a fixed-size record: `apply(ptr)` edits the record in place and returns true to write
 * it, false to leave it (a read-only decision, e.g. a limit already reached). AssemblyScript has no
 * closures, so the inputs of an edit are fields set by the caller before `updateRecord`.
 */
export abstract class RecordEdit {
  abstract apply(ptr: usize): bool;
}

/** Releases (giving back what a request took) get more attempts: losing one would leak capacity. */
export const RELEASE_ATTEMPTS_FACTOR = 64;

/**
 * Read-modify-write of a fixed-size record under CAS, at most `casRetries` attempts
 * (times RELEASE_ATTEMPTS_FACTOR when `release`).
 */
export function updateRecord(key: ArrayBuffer, size: usize, edit: RecordEdit, release: bool = false): Update {
  const keyPtr = changetype<usize>(key);
  const keyLen = <usize>key.byteLength;
  const attempts = release ? casRetries * RELEASE_ATTEMPTS_FACTOR : casRetries;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let ptr: usize;
    let cas: u32 = 0;
    if (sharedGet(keyPtr, keyLen) == Status.OK && hostSize() == size) {
      ptr = hostPtr();        // edit the host's copy in place: it is ours until the callback returns
      cas = hostCas();
    } else {
      ptr = SCRATCH;          // missing or foreign-sized value: start from a zero record
      memory.fill(ptr, 0, size);
    }
    if (!edit.apply(ptr)) return Update.Unchanged;
    const status = sharedSet(keyPtr, keyLen, ptr, size, cas);
    if (status == Status.OK) return Update.Written;
    if (status != Status.CAS_MISMATCH) return Update.Exhausted;
  }
  return Update.Exhausted;
}
