// Host→guest memory. The host hands every result over by calling our `malloc` and writing the
// pointer and size into a return slot. Nearly all of those results live only until the callback
// returns, so `malloc` serves them from a static arena that is reset when each callback starts:
// no heap allocation on the request path. Results that do not fit go to the heap and are freed by
// `releaseHostBuffer` once consumed.

const ARENA_SIZE: usize = 64 * 1024;
const ARENA: usize = memory.data(<i32>ARENA_SIZE, 16);
let arenaTop: usize = 0;

/** Return slots the host writes into: [0] pointer, [4] size, [8] cas, [16] u64 (time, metric). */
export const RET: usize = memory.data(24, 8);

export function retPtr(): usize { return <usize>load<u32>(RET); }
export function retSize(): usize { return <usize>load<u32>(RET, 4); }
export function retCas(): u32 { return load<u32>(RET, 8); }
export function retU64(): u64 { return load<u64>(RET, 16); }

/** Called at the start of every exported callback: earlier results are dead by then. */
export function resetArena(): void { arenaTop = 0; }

export function malloc(size: usize): usize {
  const rounded = (size + 7) & ~(<usize>7);
  if (rounded <= ARENA_SIZE - arenaTop) {
    const p = ARENA + arenaTop;
    arenaTop += rounded;
    return p;
  }
  return heap.alloc(size);
}

/** Same allocator under the name proxy-wasm hosts other than cpp-host look for. */
export function proxy_on_memory_allocate(size: usize): usize { return malloc(size); }

/** Frees a host result if it came from the heap rather than the arena. */
export function releaseHostBuffer(ptr: usize): void {
  if (ptr != 0 && (ptr < ARENA || ptr >= ARENA + ARENA_SIZE)) heap.free(ptr);
}

/** A byte string fixed at module start (header names, shared-data keys): pointer + length. */
export class Bytes {
  readonly buffer: ArrayBuffer;
  constructor(text: string) { this.buffer = String.UTF8.encode(text); }
  @inline get ptr(): usize { return changetype<usize>(this.buffer); }
  @inline get length(): usize { return <usize>this.buffer.byteLength; }
}

/** Writes the UTF-16 units at `from` as bytes, one per unit, up to `units` or the first unit that is
 *  not ASCII; returns how many it wrote. Text the module knows is ASCII — ids and resources are
 *  checked printable ASCII as they are decoded (config/config.ts), and its own literals — is written
 *  whole, with no UTF-8 measuring or encoding. */
export function writeAscii(from: usize, units: usize, to: usize): usize {
  let i: usize = 0;
  for (let c: u32 = 0; i < units && (c = load<u16>(from + (i << 1))) < 0x80; i++) store<u8>(to + i, <u8>c);
  return i;
}

/** Byte-wise equality of two memory ranges. */
export function bytesEqual(a: usize, aLen: usize, b: usize, bLen: usize): bool {
  if (aLen != bLen) return false;
  return memory.compare(a, b, aLen) == 0;
}
