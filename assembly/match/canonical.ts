// The canonical form of a request path, the one the matcher compares keys with, so that another
// spelling of a limited path cannot get past its limit (whatever the proxy in front normalised):
//   - the query (`?…`) and a fragment (`#…`) are not part of the path;
//   - `%XX` of an unreserved character (ALPHA DIGIT - . _ ~) is decoded; other escapes are kept,
//     their hex digits upper-cased (`%3f` ≡ `%3F`); `%252F` stays `%252F` (decoded once, never twice);
//   - `/`, `\`, `%2F` and `%5C` all separate segments (Envoy's UNESCAPE_AND_FORWARD sends `%2F` on
//     as `/`; frameworks on Windows hosts route `\` as `/`);
//   - empty segments are dropped: slashes merge, and a trailing slash is ignored (`/a/` ≡ `/a`);
//   - `.` and `..` segments (also spelled `%2e`) are resolved, `..` never above the root;
//   - path parameters (`;…` to the end of a segment, e.g. `;jsessionid=1`) are ignored;
//   - letters keep their case (RFC 3986: paths are case-sensitive).
// Done in place on raw bytes, without allocating: the canonical form is never longer than the path.

const SLASH: u8 = 0x2f;
const BACKSLASH: u8 = 0x5c;
const PERCENT: u8 = 0x25;
const SEMICOLON: u8 = 0x3b;
const DOT: u8 = 0x2e;

/** The hex digit's value, or -1. */
@inline function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return <i32>(lower - 0x61 + 10);
  return -1;
}

@inline function isUnreserved(c: u32): bool {
  const lower = c | 0x20;
  return (lower >= 0x61 && lower <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e;
}

@inline function upperHex(v: u32): u8 { return <u8>(v < 10 ? 0x30 + v : 0x41 + v - 10); }

/** The escaped byte at `at` (a `%` with two hex digits before `end`), or -1. */
@inline function escapedAt(at: usize, end: usize): i32 {
  if (at + 3 > end) return -1;
  const hi = hexValue(<u32>load<u8>(at + 1));
  const lo = hexValue(<u32>load<u8>(at + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** Where the path ends: at `?` or `#`, or its length. */
export function pathEnd(ptr: usize, len: usize): usize {
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    if (c == 0x3f || c == 0x23) return i;
  }
  return len;
}

/** Rewrites the `len` bytes at `ptr` (a path without its query) into their canonical form; returns
 *  its length. A path not starting with a separator is left as it is (it matches no key). */
export function canonicalize(ptr: usize, len: usize): usize {
  if (len == 0 || !startsWithSeparator(ptr, len)) return len;
  const end = ptr + len;
  let r = ptr;
  let w = ptr;
  while (r < end) {
    r = skipSeparator(r, end);
    if (r >= end) break;
    store<u8>(w, SLASH);
    const segStart = w + 1;
    w = segStart;
    let inParams = false;
    while (r < end) {
      const c = <u32>load<u8>(r);
      if (c == SLASH || c == BACKSLASH) break;
      if (c == PERCENT) {
        const v = escapedAt(r, end);
        if (v == SLASH || v == BACKSLASH) break;
        if (!inParams) w = writeEscape(w, r, v);
        r += v < 0 ? 1 : 3;
        continue;
      }
      if (c == SEMICOLON) inParams = true;
      if (!inParams) store<u8>(w++, <u8>c);
      r++;
    }
    w = closeSegment(ptr, segStart, w);
  }
  if (w == ptr) { store<u8>(ptr, SLASH); return 1; }
  return w - ptr;
}

@inline function startsWithSeparator(ptr: usize, len: usize): bool {
  const c = load<u8>(ptr);
  if (c == SLASH || c == BACKSLASH) return true;
  const v = escapedAt(ptr, ptr + len);
  return v == SLASH || v == BACKSLASH;
}

/** Past one separator (`/`, `\`, `%2F`, `%5C`) at `r`, if there is one. */
@inline function skipSeparator(r: usize, end: usize): usize {
  const c = <u32>load<u8>(r);
  if (c == SLASH || c == BACKSLASH) return r + 1;
  const v = c == PERCENT ? escapedAt(r, end) : -1;
  return v == SLASH || v == BACKSLASH ? r + 3 : r;
}

/** Writes the escape at `r` (value `v`, or -1 for a lone `%`): decoded if unreserved. */
@inline function writeEscape(w: usize, r: usize, v: i32): usize {
  if (v < 0) { store<u8>(w, PERCENT); return w + 1; }
  if (isUnreserved(<u32>v)) { store<u8>(w, <u8>v); return w + 1; }
  store<u8>(w, PERCENT);
  store<u8>(w + 1, upperHex(<u32>v >> 4));
  store<u8>(w + 2, upperHex(<u32>v & 15));
  return w + 3;
}

/** Ends the segment written at [segStart, w): drops it if empty or `.`, drops it and the one before
 *  if `..`. Returns the new write position. */
function closeSegment(base: usize, segStart: usize, w: usize): usize {
  const len = w - segStart;
  if (len == 0 || (len == 1 && load<u8>(segStart) == DOT)) return segStart - 1;
  if (len == 2 && load<u8>(segStart) == DOT && load<u8>(segStart + 1) == DOT) {
    let back = segStart - 1;
    while (back > base && load<u8>(back - 1) != SLASH) back--;
    return back > base ? back - 1 : base;
  }
  return w;
}
