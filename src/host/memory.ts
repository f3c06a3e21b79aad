// Guest linear memory as the host sees it (ABI 0.2.1 §1.5):
//  * guest→host data is (ptr, len) in linear memory, read synchronously and bounds-checked;
//  * host→guest data is written ONLY into buffers the guest allocates with its own `malloc`
//    (else `proxy_on_memory_allocate`) of exactly `len` bytes; the pointer and length go to the
//    guest's ret_ptr/ret_size slots (u32 LE). A zero-length result is written as (0, 0) without
//    calling the allocator (cpp-host WasmBase::copyToPointerSize);
//  * memory.buffer is re-read before every access (any guest call, malloc included, may grow the
//    memory and detach old views); views are rebuilt only when the buffer actually changed.
import { Buffer } from 'node:buffer';
import { Status } from './abi.ts';
import { pairsSize, writePairs, type Pairs } from './pairs.ts';
import { utf8Decode } from './text.ts';

const EMPTY = new ArrayBuffer(0);

/** Node's Buffer has a native latin1Slice (what toString('latin1') ends in) without the dispatch. */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';

export class GuestMemory {
  memory: WebAssembly.Memory | undefined;
  /** The buffer the views below were made for. */
  private ab: ArrayBuffer = EMPTY;
  u8: Uint8Array = new Uint8Array(0);
  buf: Buffer = Buffer.alloc(0);
  dv: DataView = new DataView(EMPTY);

  /** `allocate` calls the guest allocator (and returns 0 on failure). */
  constructor(private readonly allocate: (len: number) => number) {}

  attach(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.sync();
  }

  /**
   * Makes the views current. memory.grow detaches the old ArrayBuffer (byteLength becomes 0), so
   * a non-zero byteLength means the views are still those of the live buffer; reading the
   * memory.buffer getter on every host call would cost more than this check.
   */
  sync(): void {
    if (this.ab.byteLength === 0 || this.shared) this.refresh();
  }

  private shared = false;
  private refresh(): void {
    if (!this.memory) return; // a start function runs before the exports exist: no memory yet
    const b = this.memory.buffer as ArrayBuffer;
    if (b !== this.ab) {
      this.ab = b;
      this.shared = typeof SharedArrayBuffer !== 'undefined' && (b as unknown) instanceof SharedArrayBuffer;
      this.u8 = new Uint8Array(b);
      this.buf = Buffer.from(b);
      this.dv = new DataView(b);
    }
  }

  /** ptr and len are u32 (callers apply `>>> 0` to the i32s wasm passes). */
  ok(ptr: number, len: number): boolean {
    return ptr + len <= this.ab.byteLength;
  }

  /** A copy of guest bytes, or null when out of bounds. */
  copy(ptr: number, len: number): Uint8Array | null {
    return ptr + len <= this.ab.byteLength ? this.u8.slice(ptr, ptr + len) : null;
  }

  /** A view of guest bytes valid until the next guest call, or null when out of bounds. */
  view(ptr: number, len: number): Uint8Array | null {
    // a view made directly on the buffer: subarray's species lookup costs twice as much
    return ptr + len <= this.ab.byteLength ? new Uint8Array(this.ab, ptr, len) : null;
  }

  byteString(ptr: number, len: number): string | null {
    if (ptr + len > this.ab.byteLength) return null;
    if (len === 0) return '';
    return hasLatin1Slice ? (this.buf as Latin1Buffer).latin1Slice(ptr, ptr + len) : this.buf.toString('latin1', ptr, ptr + len);
  }

  /**
   * byteString through `cache`: when the guest's bytes are the cached string's, that string itself
   * (a key passed again, as a record read then CAS-written, costs a compare, not a string to build
   * and hash).
   */
  byteStringCached(ptr: number, len: number, cache: ByteStringCache): string | null {
    if (ptr + len > this.ab.byteLength) return null;
    if (len === cache.str.length && cache.matches(this.dv, ptr)) return cache.str;
    const s = this.byteString(ptr, len)!;
    cache.keep(s, this.u8, ptr);
    return s;
  }

  utf8(ptr: number, len: number): string | null {
    if (ptr + len > this.ab.byteLength) return null;
    return len === 0 ? '' : utf8Decode(this.u8.subarray(ptr, ptr + len));
  }

  setU32(ptr: number, v: number): boolean {
    if (ptr + 4 > this.ab.byteLength) return false;
    this.dv.setUint32(ptr, v, true);
    return true;
  }

  setU64(ptr: number, v: bigint): boolean {
    if (ptr + 8 > this.ab.byteLength) return false;
    this.dv.setBigUint64(ptr, v, true); // ToBigUint64 wraps: the u64 of v
    return true;
  }

  getU32(ptr: number): number | null {
    return ptr + 4 <= this.ab.byteLength ? this.dv.getUint32(ptr, true) : null;
  }

  /** Allocates `len` (> 0) bytes in the guest; 0 when the allocator fails or returns a bad pointer. */
  private alloc(len: number): number {
    const p = this.allocate(len) >>> 0;
    this.sync();
    return p !== 0 && p + len <= this.ab.byteLength ? p : 0;
  }

  private zero(retPtr: number, retSize: number): number {
    if (!this.ok(retPtr, 4) || !this.ok(retSize, 4)) return Status.INVALID_MEMORY_ACCESS;
    this.dv.setUint32(retPtr, 0, true);
    this.dv.setUint32(retSize, 0, true);
    return Status.OK;
  }

  private done(p: number, len: number, retPtr: number, retSize: number): number {
    if (!this.ok(retPtr, 4) || !this.ok(retSize, 4)) return Status.INVALID_MEMORY_ACCESS;
    this.dv.setUint32(retPtr, p, true);
    this.dv.setUint32(retSize, len, true);
    return Status.OK;
  }

  copyOut(bytes: Uint8Array, retPtr: number, retSize: number): number {
    const len = bytes.length;
    if (len === 0) return this.zero(retPtr, retSize);
    const p = this.alloc(len);
    if (p === 0) return Status.INVALID_MEMORY_ACCESS;
    this.u8.set(bytes, p);
    return this.done(p, len, retPtr, retSize);
  }

  /** Writes a byte string (one char per byte). */
  copyOutByteString(s: string, retPtr: number, retSize: number): number {
    const len = s.length;
    if (len === 0) return this.zero(retPtr, retSize);
    const p = this.alloc(len);
    if (p === 0) return Status.INVALID_MEMORY_ACCESS;
    if (len <= 48) {
      const u8 = this.u8; // short strings: a loop beats Buffer.write's dispatch
      for (let i = 0; i < len; i++) u8[p + i] = s.charCodeAt(i);
    } else {
      this.buf.write(s, p, len, 'latin1');
    }
    return this.done(p, len, retPtr, retSize);
  }

  /** Serialized pairs; an empty map is (0, 0), as cpp-host's get_header_map_pairs writes it. */
  copyOutPairs(pairs: Pairs, retPtr: number, retSize: number): number {
    if (pairs.length === 0) return this.zero(retPtr, retSize);
    const len = pairsSize(pairs);
    const p = this.alloc(len);
    if (p === 0) return Status.INVALID_MEMORY_ACCESS;
    writePairs(this.buf, p, pairs);
    return this.done(p, len, retPtr, retSize);
  }
}

/** The last byte string read through it, with its bytes (GuestMemory.byteStringCached). */
export class ByteStringCache {
  str = '';
  private bytes = new Uint8Array(64);
  private dv = new DataView(this.bytes.buffer);

  /** The guest's bytes at `ptr` are str's (the caller checked the length). */
  matches(mem: DataView, ptr: number): boolean {
    const len = this.str.length;
    const dv = this.dv;
    let i = 0;
    for (; i + 4 <= len; i += 4) if (mem.getUint32(ptr + i) !== dv.getUint32(i)) return false;
    for (; i < len; i++) if (mem.getUint8(ptr + i) !== dv.getUint8(i)) return false;
    return true;
  }

  keep(s: string, u8: Uint8Array, ptr: number): void {
    const len = s.length;
    if (len > this.bytes.length) {
      this.bytes = new Uint8Array(len);
      this.dv = new DataView(this.bytes.buffer);
    }
    this.bytes.set(u8.subarray(ptr, ptr + len));
    this.str = s;
  }
}
