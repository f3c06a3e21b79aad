// A small JSON parser for the filter configuration (runs once per on_configure, never per request).
// One pass over the raw bytes checks the whole document and writes a flat "tape", one entry per
// value in document order (an object's keys are entries too, each just before its value): decoders
// walk it by index, and a string stays bytes until a decoder asks for its text (keys and kinds are
// compared on the bytes). A tree of objects — one per value, two arrays per object, a string per
// key — was most of on_configure's garbage. It never traps: malformed input, deep nesting or
// invalid UTF-8 make `parse` return false with an error message in `error`.

export const enum JsonKind { Null, Bool, Number, String, Array, Object, Absent }

/** A value: its entry on the tape. NONE, an absent value, is an entry too (of kind Absent, with no
 *  items), so that reading it needs no check; the document's root follows it. */
export type JsonValue = i32;
export const NONE: JsonValue = 0;
export const ROOT: JsonValue = 1;

// An entry is three u32 (ENTRY bytes): kind | flags; then for a string its bytes [start, end)
// between the quotes, for a number its value (f64), for a container the entry just past it (past
// all its entries) and its number of items (or of keys). Past any other value is the next entry.
const KIND_MASK: u32 = 0xf;
const ESCAPED: u32 = 0x10;
const NON_ASCII: u32 = 0x20;
const TRUE: u32 = 0x40;

const MAX_DEPTH = 64;
const ENTRY: usize = 12;

export class Json {
  error: string = "";
  private pos: usize = 0;
  /** Unmanaged (heap.alloc) so that `free` returns it as soon as decoding ends: what is built next
   *  reuses it, where a managed array would stay until the sweep at the end of on_configure. */
  private tape: usize;
  private capacity: i32;
  private entries: i32 = 0;
  /** The text of the string being scanned, when `str` asks for it (`scan(true)`). */
  private built: string = "";
  /** The digits of the number being scanned. */
  private mantissa: f64 = 0;

  constructor(private ptr: usize, private len: usize) {
    // About one value per 14 bytes of a typical configuration: one per 12 reserved, so that it
    // need not grow (up to 2M entries, enough for 100,000 rules); doubled when that is too few.
    this.capacity = <i32>min<usize>(len / 12, 1 << 21) + 16;
    this.tape = heap.alloc(<usize>this.capacity * ENTRY);
    this.push(JsonKind.Absent, 0, 0);
  }

  /** Returns the tape's memory; nothing may be read after. */
  free(): void {
    if (this.tape != 0) heap.free(this.tape);
    this.tape = 0;
  }

  /** Checks the whole document and fills the tape (its root: ROOT). */
  parse(): bool {
    if (!this.value(0)) return false;
    this.ws();
    if (this.pos != this.len) return this.fail("unexpected trailing data");
    return true;
  }

  // ---- reading the tape (after a successful parse)

  kind(v: JsonValue): JsonKind { return <JsonKind>(this.at(v, 0) & KIND_MASK); }
  bool(v: JsonValue): bool { return (this.at(v, 0) & TRUE) != 0; }
  /** An array's items or an object's keys. */
  size(v: JsonValue): i32 { return <i32>this.at(v, 2); }
  /** A container's first item (an object's first key); its next ones by `next`. */
  first(v: JsonValue): JsonValue { return v + 1; }
  /** The value after `v` in its container (past everything inside `v`). */
  next(v: JsonValue): JsonValue {
    const k = this.at(v, 0) & KIND_MASK;
    return k == JsonKind.Array || k == JsonKind.Object ? <i32>this.at(v, 1) : v + 1;
  }

  /** The value of `key` in object `obj` (the first, if repeated); NONE if absent or not an object. */
  get(obj: JsonValue, key: string): JsonValue {
    if (this.kind(obj) != JsonKind.Object) return NONE;
    let k = obj + 1;
    for (let i = this.size(obj); i > 0; i--) {
      if (this.is(k, key)) return k + 1;
      k = this.next(k + 1);
    }
    return NONE;
  }

  /** Whether `v` is a string equal to `s` (ASCII): compared on the bytes, unless escapes or
   *  multi-byte sequences (even overlong ones, which decode as ASCII) make them differ from its text. */
  is(v: JsonValue, s: string): bool {
    if (this.kind(v) != JsonKind.String) return false;
    if (!this.plain(v)) return this.str(v) == s;
    const n = <usize>this.byteLength(v);
    return <usize>s.length == n && sameAscii(s, this.bytes(v), n);
  }

  /** A string value, decoded. */
  str(v: JsonValue): string {
    const from = this.at(v, 1);
    if (this.plain(v)) return this.ascii(from, this.at(v, 2));
    if ((this.at(v, 0) & ESCAPED) == 0) return this.decodeRun(from, this.at(v, 2));
    this.pos = from;
    this.built = "";
    this.scan(true);
    return this.built;
  }

  num(v: JsonValue): f64 { return load<f64>(this.tape + <usize>v * ENTRY + 4); }

  /** Whether `v` is a string whose bytes are its text (no escape, ASCII only): then `bytes` and
   *  `byteLength` can be checked in place of the text. */
  plain(v: JsonValue): bool { return (this.at(v, 0) & (KIND_MASK | ESCAPED | NON_ASCII)) == JsonKind.String; }
  bytes(v: JsonValue): usize { return this.ptr + this.at(v, 1); }
  byteLength(v: JsonValue): i32 { return <i32>(this.at(v, 2) - this.at(v, 1)); }

  /** The index in `allowed` of key `k` (compared as `is` does); -1 for none. Tried from `from`
   *  on, round to it: keys mostly come in the order of `allowed`. */
  find(k: JsonValue, allowed: StaticArray<string>, from: i32 = 0): i32 {
    const count = allowed.length;
    const plain = this.plain(k);
    const s = plain ? "" : this.str(k);
    const p = this.bytes(k);
    const n = <usize>this.byteLength(k);
    for (let t = 0, i = from; t < count; t++, i = i + 1 < count ? i + 1 : 0) {
      const a = unchecked(allowed[i]);
      if (plain ? <usize>a.length == n && sameAscii(a, p, n) : s == a) return i;
    }
    return -1;
  }

  @inline private at(v: JsonValue, field: i32): u32 { return load<u32>(this.tape + <usize>v * ENTRY + (<usize>field << 2)); }

  // ---- the pass over the bytes

  private fail(message: string): bool {
    if (this.error.length == 0) this.error = message + " at byte " + this.pos.toString();
    return false;
  }

  /** Appends an entry; returns its index. */
  private push(flags: u32, start: usize, end: usize): JsonValue {
    const v = this.entries;
    if (v >= this.capacity) {
      this.capacity <<= 1;
      this.tape = heap.realloc(this.tape, <usize>this.capacity * ENTRY);
    }
    const e = this.tape + <usize>v * ENTRY;
    store<u32>(e, flags);
    store<u32>(e, <u32>start, 4);
    store<u32>(e, <u32>end, 8);
    this.entries = v + 1;
    return v;
  }

  /** Ends container `v`: its count and the entry past it. */
  private close(v: JsonValue, count: u32): bool {
    const e = this.tape + <usize>v * ENTRY;
    store<u32>(e, <u32>this.entries, 4);
    store<u32>(e, count, 8);
    return true;
  }

  @inline private peek(): i32 { return this.pos < this.len ? <i32>load<u8>(this.ptr + this.pos) : -1; }

  private ws(): void {
    while (this.pos < this.len) {
      const c = load<u8>(this.ptr + this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  private literal(word: string): bool {
    const n = <usize>word.length;
    if (this.len - this.pos < n) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<i32>load<u8>(this.ptr + this.pos + i) != word.charCodeAt(<i32>i)) return false;
    }
    this.pos += n;
    return true;
  }

  private value(depth: i32): bool {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.ws();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) return this.string();
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    const start = this.pos;
    if (this.literal("true")) { this.push(JsonKind.Bool | TRUE, start, this.pos); return true; }
    if (this.literal("false")) { this.push(JsonKind.Bool, start, this.pos); return true; }
    if (this.literal("null")) { this.push(JsonKind.Null, start, this.pos); return true; }
    return this.fail(c < 0 ? "unexpected end of input" : "unexpected character");
  }

  private object(depth: i32): bool {
    this.pos++; // {
    const obj = this.push(JsonKind.Object, 0, 0);
    this.ws();
    if (this.peek() == 0x7d) { this.pos++; return this.close(obj, 0); }
    let count: u32 = 0;
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      if (!this.string()) return false;
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      if (!this.value(depth + 1)) return false;
      count++;
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x7d) { this.pos++; return this.close(obj, count); }
      return this.fail("expected ',' or '}'");
    }
  }

  private array(depth: i32): bool {
    this.pos++; // [
    const arr = this.push(JsonKind.Array, 0, 0);
    this.ws();
    if (this.peek() == 0x5d) { this.pos++; return this.close(arr, 0); }
    let count: u32 = 0;
    while (true) {
      if (!this.value(depth + 1)) return false;
      count++;
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x5d) { this.pos++; return this.close(arr, count); }
      return this.fail("expected ',' or ']'");
    }
  }

  /** A number; its value goes on the tape. */
  private number(): bool {
    const negative = this.peek() == 0x2d;
    if (negative) this.pos++;
    this.mantissa = 0;
    if (this.digits() == 0) return this.fail("expected a digit");
    let scale: i32 = 0;
    if (this.peek() == 0x2e) {
      this.pos++;
      scale = -this.digits();
      if (scale == 0) return this.fail("expected a digit after '.'");
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      const sign = this.peek();
      if (sign == 0x2b || sign == 0x2d) this.pos++;
      let exp: i32 = 0;
      const start = this.pos;
      for (let c = this.peek(); c >= 0x30 && c <= 0x39; c = this.peek()) {
        if (exp < 100000) exp = exp * 10 + (c - 0x30);
        this.pos++;
      }
      if (this.pos == start) return this.fail("expected a digit in the exponent");
      scale += sign == 0x2d ? -exp : exp;
    }
    // Powers of ten by multiplication (exact up to 1e22, far beyond any value the configuration
    // accepts): Math.pow would bring its tables into the module.
    let power: f64 = 1;
    for (let k = scale < 0 ? -scale : scale; k > 0 && power < Infinity; k--) power *= 10;
    const magnitude = scale < 0 ? this.mantissa / power : this.mantissa * power;
    const bits = reinterpret<u64>(negative ? -magnitude : magnitude);
    this.push(JsonKind.Number, <usize>bits, <usize>(bits >> 32));
    return true;
  }

  /** Decimal digits at `pos`, consumed into `mantissa`; how many. */
  private digits(): i32 {
    const start = this.pos;
    let p = start;
    let m = this.mantissa;
    while (p < this.len) {
      const c = <i32>load<u8>(this.ptr + p);
      if (c < 0x30 || c > 0x39) break;
      m = m * 10 + <f64>(c - 0x30);
      p++;
    }
    this.mantissa = m;
    this.pos = p;
    return <i32>(p - start);
  }

  /** A string at the current '"': checked, and its bytes between the quotes recorded. */
  private string(): bool {
    this.pos++; // opening quote
    const start = this.pos;
    // Plain bytes up to the closing quote without the checks of `scan`: most strings are only that.
    let p = start;
    // Eight bytes at a time while none of them is special, then byte by byte.
    while (p + 8 <= this.len && !special8(load<u64>(this.ptr + p))) p += 8;
    while (p < this.len) {
      const c = load<u8>(this.ptr + p);
      if (c == 0x22 || c == 0x5c || c < 0x20 || c >= 0x80) break;
      p++;
    }
    this.pos = p;
    const flags = p < this.len && load<u8>(this.ptr + p) == 0x22 ? 0 : this.scan(false);
    if (flags < 0) return false;
    this.push(JsonKind.String | <u32>flags, start, this.pos);
    this.pos++;
    return true;
  }

  /** Scans a string's bytes from `pos` to its closing quote (UTF-8, escapes): its flags, or -1 with
   *  the error. With `text` (on a string already checked) its text goes into `built`: the runs
   *  between escapes decoded, each escape replaced. */
  private scan(text: bool): i32 {
    let flags = 0;
    let run = this.pos;
    while (true) {
      if (this.pos >= this.len) { this.fail("unterminated string"); return -1; }
      const c = <i32>load<u8>(this.ptr + this.pos);
      if (c == 0x22) {
        if (text) this.built += this.decodeRun(<u32>run, <u32>this.pos);
        return flags;
      }
      if (c < 0x20) { this.fail("control character in string"); return -1; }
      if (c == 0x5c) {
        flags |= ESCAPED;
        if (text) this.built += this.decodeRun(<u32>run, <u32>this.pos);
        this.pos++;
        if (this.pos >= this.len) { this.fail("unterminated escape"); return -1; }
        const e = <i32>load<u8>(this.ptr + this.pos);
        this.pos++;
        const unit = e == 0x75 ? this.hex4() : escaped(e);
        if (unit < 0) { this.fail(e == 0x75 ? "bad \\u escape" : "bad escape"); return -1; }
        if (text) this.built += String.fromCharCode(unit);
        run = this.pos;
        continue;
      }
      if (c >= 0x80) {
        flags |= NON_ASCII;
        const n = utf8Length(c);
        if (n == 0 || this.pos + <usize>n > this.len) { this.fail("invalid UTF-8"); return -1; }
        for (let i = 1; i < n; i++) {
          if ((<i32>load<u8>(this.ptr + this.pos + <usize>i) & 0xc0) != 0x80) { this.fail("invalid UTF-8"); return -1; }
        }
        this.pos += <usize>n;
        continue;
      }
      this.pos++;
    }
  }

  /** Four hex digits at the current position, consumed; -1 at the first that is not one. */
  private hex4(): i32 {
    if (this.len - this.pos < 4) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const d = hexDigit(<i32>load<u8>(this.ptr + this.pos));
      if (d < 0) return -1;
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }

  private decodeRun(from: u32, to: u32): string {
    return to > from ? String.UTF8.decodeUnsafe(this.ptr + from, to - from) : "";
  }

  /** ASCII bytes widened to a string: what decodeUnsafe makes of them, without its UTF-8 steps. */
  private ascii(from: u32, to: u32): string {
    const n = <usize>(to - from);
    if (n == 0) return "";
    const s = changetype<usize>(__new(n << 1, idof<String>()));
    const at = this.ptr + from;
    for (let i: usize = 0; i < n; i++) store<u16>(s + (i << 1), load<u8>(at + i));
    return changetype<string>(s);
  }
}

/** The character of a one-letter escape (\" \\ \/ \b \f \n \r \t); -1 for any other letter. */
function escaped(e: i32): i32 {
  if (e == 0x22 || e == 0x5c || e == 0x2f) return e;
  if (e == 0x62) return 0x08;
  if (e == 0x66) return 0x0c;
  if (e == 0x6e) return 0x0a;
  if (e == 0x72) return 0x0d;
  if (e == 0x74) return 0x09;
  return -1;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function utf8Length(lead: i32): i32 {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** Whether any of the eight bytes of `x` is a quote, a backslash, a control character or not
 *  ASCII: the "has a zero byte" test ((v - 1) & ~v & 0x80 per byte) on x ^ '"', x ^ '\\' and, for
 *  bytes below 0x20, x - 0x20. Exact as to whether some byte is one (not as to which). */
@inline export function special8(x: u64): bool {
  const quote = x ^ (ONES * 0x22);
  const slash = x ^ (ONES * 0x5c);
  const found = ((quote - ONES) & ~quote) | ((slash - ONES) & ~slash) | ((x - ONES * 0x20) & ~x) | x;
  return (found & HIGHS) != 0;
}

/** Whether `s` (UTF-16) holds exactly the n ASCII bytes at ptr. */
function sameAscii(s: string, ptr: usize, n: usize): bool {
  const chars = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u16>(chars + (i << 1)) != <u32>load<u8>(ptr + i)) return false;
  }
  return true;
}
