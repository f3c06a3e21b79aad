// Shared-data records: the only state that crosses Envoy's worker VMs. A decision is one get and
// one CAS set; on CAS_MISMATCH the read-modify-write is retried a bounded number of times.
// cpp-host semantics: writing a missing key always succeeds, whatever the cas (records are therefore
// created in zeros by on_configure, and read again before their first edit: here and packed.ts).
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
    if (sharedGet(keyPtr, keyLen) != Status.OK) {
      // Gone since on_configure created it: created again, then read again, so that the edit is a
      // CAS write (a write of a missing key ignores the cas and would wipe a concurrent creation's edit).
      createRecord(keyPtr, keyLen, size);
      continue;
    }
    const cas = hostCas();
    let ptr = hostPtr();      // edit the host's copy in place: it is ours until the callback returns
    if (hostSize() != size) {
      ptr = SCRATCH;          // a foreign-sized value: from a zero record, written under its cas
      memory.fill(ptr, 0, size);
    }
    if (!edit.apply(ptr)) return Update.Unchanged;
    const status = sharedSet(keyPtr, keyLen, ptr, size, cas);
    if (status == Status.OK) return Update.Written;
    if (status != Status.CAS_MISMATCH) return Update.Exhausted;
  }
  return Update.Exhausted;
}

/** on_configure: the record of `key` in zeros unless it exists, before a request can race another
 *  worker's first edits (the creation is the one write without a cas). */
export function ensureRecord(key: ArrayBuffer, size: usize): void {
  const keyPtr = changetype<usize>(key);
  const keyLen = <usize>key.byteLength;
  if (sharedGet(keyPtr, keyLen) != Status.OK) createRecord(keyPtr, keyLen, size);
}

function createRecord(keyPtr: usize, keyLen: usize, size: usize): void {
  memory.fill(SCRATCH, 0, size);
  sharedSet(keyPtr, keyLen, SCRATCH, size, 0);
}
