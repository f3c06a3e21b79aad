// Header-map ("pairs") serialization, ABI 0.2.1 §1.6: u32 count, count × (u32 key_len, u32
// value_len), then each key and value followed by a NUL; little-endian; lengths exclude the NUL.
// Parsing follows cpp-host PairsUtil::toPairs: a buffer shorter than 4 bytes is an empty map (so
// 0 bytes, one 0x00 byte and a 4-byte zero count all mean "empty"); more than 1 MiB or more than
// 1024 pairs, a missing NUL, an overrun or trailing bytes make the buffer malformed, which
// cpp-host silently treats as an empty map.
import { Buffer } from 'node:buffer';
import { Limits } from './abi.ts';

/** Pairs of byte strings (see text.ts). */
export type Pairs = ReadonlyArray<readonly [string, string]>;

export function pairsSize(pairs: Pairs): number {
  let size = 4;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    size += 10 + p[0].length + p[1].length;
  }
  return size;
}

/** Writes the serialization of `pairs` at `ptr` (the caller sized the region with pairsSize). */
export function writePairs(mem: Buffer, ptr: number, pairs: Pairs): void {
  const n = pairs.length;
  mem.writeUInt32LE(n, ptr);
  let lens = ptr + 4;
  let data = lens + n * 8;
  for (let i = 0; i < n; i++) {
    const [k, v] = pairs[i]!;
    mem.writeUInt32LE(k.length, lens);
    mem.writeUInt32LE(v.length, lens + 4);
    lens += 8;
    if (k.length) mem.write(k, data, k.length, 'latin1');
    data += k.length;
    mem[data++] = 0;
    if (v.length) mem.write(v, data, v.length, 'latin1');
    data += v.length;
    mem[data++] = 0;
  }
}

export function encodePairs(pairs: Pairs): Uint8Array {
  const out = Buffer.alloc(pairsSize(pairs));
  writePairs(out, 0, pairs);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Parses `size` bytes at `ptr`. Returns the pairs, [] for an empty map, or null when the buffer is
 * malformed or over the limits (cpp-host then uses an empty map).
 */
export function readPairs(mem: Uint8Array, ptr: number, size: number): [string, string][] | null {
  if (size > Limits.PAIRS_MAX_BYTES) return null;
  if (size < 4) return [];
  const buf = mem instanceof Buffer ? mem : Buffer.from(mem.buffer, mem.byteOffset, mem.byteLength);
  const end = ptr + size;
  const n = buf.readUInt32LE(ptr);
  if (n > Limits.PAIRS_MAX_COUNT) return null;
  let lens = ptr + 4;
  let pos = lens + n * 8;
  if (pos > end) return null;
  const out: [string, string][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kl = buf.readUInt32LE(lens);
    const vl = buf.readUInt32LE(lens + 4);
    lens += 8;
    if (pos + kl + 1 > end) return null;
    const k = buf.toString('latin1', pos, pos + kl);
    pos += kl;
    if (buf[pos++] !== 0) return null;
    if (pos + vl + 1 > end) return null;
    const v = buf.toString('latin1', pos, pos + vl);
    pos += vl;
    if (buf[pos++] !== 0) return null;
    out[i] = [k, v];
  }
  return pos === end ? out : null;
}

export const decodePairs = (bytes: Uint8Array): [string, string][] | null => readPairs(bytes, 0, bytes.length);
