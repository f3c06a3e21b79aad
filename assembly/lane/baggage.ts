// W3C Baggage (https://www.w3.org/TR/baggage/) on raw bytes, without allocating:
//   baggage     = list-member 0*179( OWS "," OWS list-member )
//   list-member = key OWS "=" OWS value *( OWS ";" OWS property )
// OWS is spaces and tabs; values are percent-encoded. A member without "=" is skipped, as is a
// header longer than MAX_BAGGAGE (the limit the specification sets); properties are ignored.

/** The longest baggage header read or written (W3C: 8192 bytes). */
export const MAX_BAGGAGE: usize = 8192;
/** The longest decoded value that can be a lane. */
const MAX_VALUE: usize = 64;

const DECODED: usize = memory.data(<i32>MAX_VALUE, 8);
/** A rewritten header: the old members but ours, then ours (key "=" value, each at most 64). */
const SCRATCH_SIZE: usize = MAX_BAGGAGE + 256;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE, 8);

@inline function isOws(c: u8): bool { return c == 0x20 || c == 0x09; }

/** Where one member's key and raw value are (offsets from the header's start); none: keyEnd 0. */
class Member {
  start: usize = 0;   // first byte of the trimmed member
  end: usize = 0;     // past its last byte
  keyEnd: usize = 0;  // past the trimmed key
  valueStart: usize = 0;
  valueEnd: usize = 0;
}
const member = new Member();

/** Reads the member in [from, to) of `ptr` into `member`; false when it has no "=". */
function readMember(ptr: usize, from: usize, to: usize): bool {
  let s = from;
  let e = to;
  while (s < e && isOws(load<u8>(ptr + s))) s++;
  while (e > s && isOws(load<u8>(ptr + e - 1))) e--;
  let eq = s;
  while (eq < e && load<u8>(ptr + eq) != 0x3d) eq++;
  if (eq == e || eq == s) return false;
  let keyEnd = eq;
  while (keyEnd > s && isOws(load<u8>(ptr + keyEnd - 1))) keyEnd--;
  let vs = eq + 1;
  while (vs < e && isOws(load<u8>(ptr + vs))) vs++;
  let ve = vs;
  while (ve < e && load<u8>(ptr + ve) != 0x3b) ve++;
  while (ve > vs && isOws(load<u8>(ptr + ve - 1))) ve--;
  member.start = s; member.end = e; member.keyEnd = keyEnd; member.valueStart = vs; member.valueEnd = ve;
  return true;
}

/** Where the member [from…) ends: at the next "," or the end. */
@inline function memberEnd(ptr: usize, from: usize, len: usize): usize {
  let i = from;
  while (i < len && load<u8>(ptr + i) != 0x2c) i++;
  return i;
}

@inline function keyIs(ptr: usize, key: ArrayBuffer): bool {
  const n = <usize>key.byteLength;
  return member.keyEnd - member.start == n && memory.compare(ptr + member.start, changetype<usize>(key), n) == 0;
}

/** The decoded value of the first member named `key`, in DECODED: its length, or -1 (absent,
 *  longer than MAX_VALUE, a bad escape, or a header over MAX_BAGGAGE). */
export function baggageValue(ptr: usize, len: usize, key: ArrayBuffer): isize {
  if (len > MAX_BAGGAGE) return -1;
  let from: usize = 0;
  while (from <= len) {
    const to = memberEnd(ptr, from, len);
    if (readMember(ptr, from, to) && keyIs(ptr, key)) return percentDecode(ptr + member.valueStart, member.valueEnd - member.valueStart);
    from = to + 1;
  }
  return -1;
}

/** The last decoded value (valid until the next baggageValue). */
@inline export function decodedPtr(): usize { return DECODED; }

function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return <i32>(lower - 0x61 + 10);
  return -1;
}

function percentDecode(src: usize, n: usize): isize {
  let w: usize = 0;
  let i: usize = 0;
  while (i < n) {
    if (w == MAX_VALUE) return -1;
    let c = <u32>load<u8>(src + i);
    if (c == 0x25) {
      if (i + 2 >= n) return -1;
      const hi = hexValue(<u32>load<u8>(src + i + 1));
      const lo = hexValue(<u32>load<u8>(src + i + 2));
      if (hi < 0 || lo < 0) return -1;
      c = <u32>((hi << 4) | lo);
      i += 3;
    } else i++;
    store<u8>(DECODED + w++, <u8>c);
  }
  return <isize>w;
}

/** The header rewritten with `key=value` as its only member named `key` (the others kept, in
 *  order): its length in SCRATCH, or -1 when it would exceed MAX_BAGGAGE. */
export function rewriteBaggage(ptr: usize, len: usize, key: ArrayBuffer, value: ArrayBuffer): isize {
  let w: usize = 0;
  let from: usize = 0;
  while (ptr != 0 && from <= len) {
    const to = memberEnd(ptr, from, len);
    if (readMember(ptr, from, to) && !keyIs(ptr, key)) {
      const n = member.end - member.start;
      if (w + n + 1 > MAX_BAGGAGE) return -1;
      if (w > 0) store<u8>(SCRATCH + w++, 0x2c);
      memory.copy(SCRATCH + w, ptr + member.start, n);
      w += n;
    }
    from = to + 1;
  }
  const k = <usize>key.byteLength;
  const v = <usize>value.byteLength;
  if (w + k + v + 2 > MAX_BAGGAGE) return -1;
  if (w > 0) store<u8>(SCRATCH + w++, 0x2c);
  memory.copy(SCRATCH + w, changetype<usize>(key), k);
  w += k;
  store<u8>(SCRATCH + w++, 0x3d);
  memory.copy(SCRATCH + w, changetype<usize>(value), v);
  return <isize>(w + v);
}

/** The last rewritten header (valid until the next rewriteBaggage). */
@inline export function rewrittenPtr(): usize { return SCRATCH; }
