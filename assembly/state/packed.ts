// One shared-data record per resource holding the state of every stateful rule of that resource,
// so that the whole chain of a resource costs one get and one CAS set per request (instead of one
// pair per rule). Layout (little-endian):
//
//   u32 section count · u32 0 · count × (u64 identity, u32 offset, u32 size) · the sections
//
// A section's identity is a hash of its rule's state key ("sergo:<Kind>Strategy:<id>#<signature>"),
// so the key scheme's guarantee holds per rule: a rule whose id and parameters are unchanged finds
// its section again after a reload, whatever happened to the other rules of its resource. The
// record's key is the resource's ("sergo:" + resource key), stable across reloads.
//
// While the workers of a reload disagree on the rules (each runs on_configure on its own), a VM may
// find a layout other than its own: it then works on its sections where they are, found by
// identity, and appends the ones missing (zeros) instead of dropping anyone else's. on_configure
// adds its missing sections and keeps the KEPT_FOREIGN newest sections of other layouts: a worker
// still on the previous configuration, or a rule back on parameters it had in the same window
// (GlobalToLocal shares moving 4 → 3 → 4), continues its own state instead of a fresh window. (The records of the earlier
// one-record-per-rule scheme are not read: a module upgrade starts the limits afresh, once.)
//
// A record that does not exist yet (a first configuration, a new resource) is created by
// on_configure, in zeros, before the VM serves a request on it: cpp-host writes a missing key
// whatever the cas, so a creation is the one write without a cas, and made at a request it would
// wipe what another worker's first requests wrote in the same instant (a burst on a new resource
// over 4 workers admitted more than its concurrency limit: test/envoy/concurrency). A record that
// disappeared after configure is created the same way by `load`, and read again, so that the edits
// after it are CAS writes like every other.
import { sharedGet, sharedSet, hostPtr, hostSize, hostCas, releaseHostBuffer, Status, writeAscii } from "../abi";

const HEADER: usize = 8;
/** Sections of other layouts on_configure keeps, newest first (older ones are dropped). */
const KEPT_FOREIGN: i32 = 8;
const ENTRY: usize = 16;
const KEY_PREFIX = String.UTF8.encode("sergo:");
/** The initial value of the buffers a record replaces before it writes to them. */
const NO_BYTES = new ArrayBuffer(0);

/** Where on_configure builds records (one at a time): records then own no buffer of their own. */
let configureScratch = new ArrayBuffer(0);

/** A section this VM's record does not have (a release that found a record without it). */
export const NO_SECTION: usize = 0;

/** FNV-1a, 64 bits, over a state key's bytes: the identity of a section. */
export function identityOf(key: ArrayBuffer): u64 {
  let h: u64 = 0xcbf29ce484222325;
  const p = changetype<usize>(key);
  for (let i = 0; i < key.byteLength; i++) h = (h ^ <u64>load<u8>(p + <usize>i)) * 0x100000001b3;
  return h;
}

export class PackedRecord {
  /** Size of this VM's own layout, header included (grows with `add`). */
  size: usize;
  /** One buffer for what the record keeps (GC-owned, like the scratch: a replaced configuration's
   *  records are collected whole): this VM's own header — count, then (identity, offset, size) per
   *  own section: its layout, and where its sections' identities, offsets and sizes are read —, then
   *  `at`, then the key ("sergo:" + resource key, ASCII). */
  private readonly bytes: ArrayBuffer;
  private readonly header: usize;
  /** Where each own section is in the loaded record (u32 each; NO_SECTION: absent). */
  private readonly at: usize;
  private readonly keyPtr: usize;
  private readonly keyLen: usize;
  private readonly headerSize: usize;
  /** Own sections: as many as the constructor was told, once `add` has run for each. */
  private readonly own: i32;

  // The transaction of the current callback (a VM runs one callback at a time).
  loaded: bool = false;
  dirty: bool = false;
  committed: bool = false;
  /** The last release (chain) that handled this record. */
  releaseEpoch: u32 = 0;
  private ptr: usize = 0;
  private length: usize = 0;
  private cas: u32 = 0;
  private scratch: ArrayBuffer = NO_BYTES;
  /** The host's copy last read: freed once done with when it did not fit the arena (abi/memory.ts). */
  private hostCopy: usize = 0;

  /** A record of `sections` own sections, each then given by `add` in order. */
  constructor(resourceKey: string, sections: i32) {
    const headerSize = HEADER + <usize>sections * ENTRY;
    const keyAt = headerSize + <usize>sections * 4;
    const keyLen = <usize>KEY_PREFIX.byteLength + <usize>resourceKey.length;   // ASCII (abi/memory.ts writeAscii)
    const bytes = new ArrayBuffer(<i32>(keyAt + keyLen));
    const p = changetype<usize>(bytes);
    store<u32>(p, <u32>sections);
    memory.copy(p + keyAt, changetype<usize>(KEY_PREFIX), <usize>KEY_PREFIX.byteLength);
    writeAscii(changetype<usize>(resourceKey), <usize>resourceKey.length, p + keyAt + <usize>KEY_PREFIX.byteLength);
    this.own = sections;
    this.headerSize = headerSize;
    this.size = headerSize;
    this.bytes = bytes;
    this.header = p;
    this.at = p + headerSize;
    this.keyPtr = p + keyAt;
    this.keyLen = keyLen;
  }

  /** The next own section: the state of the rule with this state key, `size` bytes. */
  add(index: i32, stateKey: ArrayBuffer, size: usize): void {
    writeEntry(this.entry(index), identityOf(stateKey), <u32>this.size, <u32>size);
    this.size += (size + 7) & ~(<usize>7);
  }

  /** Own section i's header entry. */
  @inline private entry(i: i32): usize { return this.header + HEADER + <usize>i * ENTRY; }

  /** Where own section `i` is in the loaded record (NO_SECTION when a release found it absent). */
  @inline section(i: i32): usize {
    const at = load<u32>(this.at + (<usize>i << 2));
    return at == 0 ? NO_SECTION : this.ptr + <usize>at;
  }

  /** A new transaction: nothing read yet. */
  begin(): void {
    this.loaded = false;
    this.dirty = false;
    this.committed = false;
    this.dropHostCopy();
  }

  private dropHostCopy(): void {
    releaseHostBuffer(this.hostCopy);
    this.hostCopy = 0;
  }

  /** Reads the record. For a check (`forCheck`), sections missing from a foreign layout are
   *  appended as zeros; for a release they stay absent (there is nothing to give back to). */
  load(forCheck: bool): void {
    this.loaded = true;
    this.dirty = false;
    const keyPtr = this.keyPtr;
    const keyLen = this.keyLen;
    let found = sharedGet(keyPtr, keyLen) == Status.OK;
    // Gone since on_configure created it: created again, then read again, so that edits are
    // written with a real cas like every other write of the record.
    if (!found && this.create()) found = sharedGet(keyPtr, keyLen) == Status.OK;
    if (!found) {
      this.cas = 0;
      this.compose(0, 0, false, false);
      return;
    }
    const p = hostPtr();
    const n = hostSize();
    this.cas = hostCas();
    this.hostCopy = p;
    // The host's copy is ours until the callback returns: edited in place.
    this.ptr = p;
    this.length = n;
    if (n == this.size && sameWords(p, this.header, this.headerSize)) {
      for (let i = 0; i < this.own; i++) store<u32>(this.at + (<usize>i << 2), load<u32>(this.entry(i), 8));
      return;
    }
    if (this.locate(p, n) || !forCheck) return;
    this.compose(p, n, true, false);
    this.dirty = true;
  }

  /** Writes the transaction's record with the cas it was read with. */
  commit(): bool {
    const ok = sharedSet(this.keyPtr, this.keyLen, this.ptr, this.length, this.cas) == Status.OK;
    if (ok) this.committed = true;
    return ok;
  }

  /** Whether `other` (a previous configuration's) has this record's key and own layout. */
  sameLayout(other: PackedRecord): bool {
    return other.keyLen == this.keyLen && other.headerSize == this.headerSize && other.size == this.size &&
      memory.compare(other.keyPtr, this.keyPtr, this.keyLen) == 0 && sameWords(other.header, this.header, this.headerSize);
  }

  /** on_configure: the record with every own section (state kept where it has it), and the newest
   *  KEPT_FOREIGN sections of other layouts. Whether it created the record (none existed). */
  ensure(): bool {
    const keyPtr = this.keyPtr;
    const keyLen = this.keyLen;
    for (let attempt = 0; attempt < 64; attempt++) {
      let cas: u32 = 0;
      if (sharedGet(keyPtr, keyLen) == Status.OK) {
        const p = hostPtr();
        const n = hostSize();
        const same = n == this.size && sameWords(p, this.header, this.headerSize);
        cas = hostCas();
        if (!same) this.compose(p, n, true, true);
        const unchanged = !same && this.length == n && memory.compare(this.ptr, p, n) == 0;
        releaseHostBuffer(p);
        if (same || unchanged) return false;
      } else {
        return this.create();   // none yet: in zeros now, before a request can race another worker's
      }
      if (sharedSet(keyPtr, keyLen, this.ptr, this.length, cas) != Status.CAS_MISMATCH) return false;
    }
    return false;
  }

  /** Writes this VM's own layout in zeros where no record exists: the one write without a cas
   *  (cpp-host writes a missing key whatever the cas). */
  private create(): bool {
    const out = configureScratchOf(this.size);
    memory.copy(out, this.header, this.headerSize);
    memory.fill(out + this.headerSize, 0, this.size - this.headerSize);
    return sharedSet(this.keyPtr, this.keyLen, out, this.size, 0) == Status.OK;
  }

  /** Finds every own section in a foreign layout; false when one is missing. */
  private locate(p: usize, n: usize): bool {
    let all = true;
    for (let i = 0; i < this.own; i++) {
      const at = findSection(p, n, load<u64>(this.entry(i)), load<u32>(this.entry(i), 12));
      store<u32>(this.at + (<usize>i << 2), at);
      if (at == 0) all = false;
    }
    return all;
  }

  /** Builds into scratch: (`keepForeign`: the found layout's sections, then) the own sections,
   *  each with its state from `found` when it has it, else zeros. */
  private compose(found: usize, foundLen: usize, keepForeign: bool, configuring: bool): void {
    const own = this.own;
    const foreign = keepForeign ? validCount(found, foundLen) : 0;
    const drop = configuring ? this.foreignToDrop(found, foreign) : 0;
    // Sizes first: the header grows with every appended section.
    let count = 0;
    let dataSize: usize = 0;
    for (let j = 0, left = drop; j < foreign; j++) {
      const e = found + HEADER + <usize>j * ENTRY;
      if (left > 0 && !this.owns(e)) { left--; continue; }
      count++;
      dataSize += (<usize>load<u32>(e, 12) + 7) & ~(<usize>7);
    }
    for (let i = 0; i < own; i++) {
      const mine = this.entry(i);
      if (keepForeign && findSection(found, foundLen, load<u64>(mine), load<u32>(mine, 12)) != 0) continue;
      count++;
      dataSize += (<usize>load<u32>(mine, 12) + 7) & ~(<usize>7);
    }
    const total = HEADER + <usize>count * ENTRY + dataSize;
    const out = configuring ? configureScratchOf(total) : this.scratchOf(total);
    memory.fill(out, 0, total);
    store<u32>(out, <u32>count);
    let entry = out + HEADER;
    let offset = HEADER + <usize>count * ENTRY;
    for (let j = 0, left = drop; j < foreign; j++) {
      const e = found + HEADER + <usize>j * ENTRY;
      if (left > 0 && !this.owns(e)) { left--; continue; }
      const size = load<u32>(e, 12);
      writeEntry(entry, load<u64>(e), <u32>offset, size);
      memory.copy(out + offset, found + <usize>load<u32>(e, 8), <usize>size);
      entry += ENTRY;
      offset += (<usize>size + 7) & ~(<usize>7);
    }
    for (let i = 0; i < own; i++) {
      const id = load<u64>(this.entry(i));
      const size = load<u32>(this.entry(i), 12);
      const from = found == 0 ? 0 : findSection(found, foundLen, id, size);
      if (keepForeign && from != 0) continue;   // copied above with the foreign ones
      writeEntry(entry, id, <u32>offset, size);
      if (from != 0) memory.copy(out + offset, found + <usize>from, <usize>size);
      entry += ENTRY;
      offset += (<usize>size + 7) & ~(<usize>7);
    }
    this.ptr = out;
    this.length = total;
    this.locate(out, total);
  }

  /** How many of a found record's sections of other layouts are beyond KEPT_FOREIGN (the oldest
   *  come first: sections are appended). */
  private foreignToDrop(found: usize, count: i32): i32 {
    let others = 0;
    for (let j = 0; j < count; j++) if (!this.owns(found + HEADER + <usize>j * ENTRY)) others++;
    return others > KEPT_FOREIGN ? others - KEPT_FOREIGN : 0;
  }

  /** Whether a header entry is one of this VM's own sections. */
  private owns(e: usize): bool {
    for (let i = 0; i < this.own; i++) {
      const mine = this.entry(i);
      if (load<u64>(e) == load<u64>(mine) && load<u32>(e, 12) == load<u32>(mine, 12)) return true;
    }
    return false;
  }

  private scratchOf(size: usize): usize {
    if (size > <usize>this.scratch.byteLength) this.scratch = new ArrayBuffer(<i32>size);
    return changetype<usize>(this.scratch);
  }
}

function configureScratchOf(size: usize): usize {
  if (size > <usize>configureScratch.byteLength) configureScratch = new ArrayBuffer(<i32>(size * 2));
  return changetype<usize>(configureScratch);
}

/** Whether two ranges of 8-byte words are equal (a header is 8 + 16 × sections bytes). */
@inline function sameWords(a: usize, b: usize, size: usize): bool {
  for (let i: usize = 0; i < size; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  return true;
}

function writeEntry(e: usize, id: u64, offset: u32, size: u32): void {
  store<u64>(e, id);
  store<u32>(e, offset, 8);
  store<u32>(e, size, 12);
}

/** How many header entries of a found record are whole and point inside it (0 for garbage). */
function validCount(p: usize, n: usize): i32 {
  if (p == 0 || n < HEADER) return 0;
  const count = <usize>load<u32>(p);
  if (HEADER + count * ENTRY > n) return 0;
  for (let j: usize = 0; j < count; j++) {
    const e = p + HEADER + j * ENTRY;
    if (<usize>load<u32>(e, 8) + <usize>load<u32>(e, 12) > n || <usize>load<u32>(e, 8) < HEADER + count * ENTRY) return 0;
  }
  return <i32>count;
}

/** The offset of the section with this identity and size in a found record, 0 when absent. */
function findSection(p: usize, n: usize, id: u64, size: u32): u32 {
  const count = validCount(p, n);
  for (let j = 0; j < count; j++) {
    const e = p + HEADER + <usize>j * ENTRY;
    if (load<u64>(e) == id && load<u32>(e, 12) == size) return load<u32>(e, 8);
  }
  return 0;
}
