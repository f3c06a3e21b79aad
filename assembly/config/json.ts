// A small JSON parser for the filter configuration (runs once per on_configure, never per request).
// It works on raw bytes and never traps: malformed input, deep nesting or invalid UTF-8 give
// `null` and an error message in `JsonParser.error`.

export const enum JsonKind { Null, Bool, Number, String, Array, Object }

// Scalars share these (never written): a configuration is mostly scalars, and two arrays per value
// would be most of the tree's allocations.
const NO_ITEMS: JsonValue[] = [];
const NO_KEYS: string[] = [];

export class JsonValue {
  // Payloads; only the one matching `kind` is meaningful.
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: JsonValue[];
  keys: string[];

  constructor(public kind: JsonKind) {
    const container = kind == JsonKind.Array || kind == JsonKind.Object;
    this.items = container ? [] : NO_ITEMS;
    this.keys = kind == JsonKind.Object ? [] : NO_KEYS;
  }

  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

const MAX_DEPTH = 64;

// Short strings without escapes are interned per parse: a configuration repeats its keys and kinds
// ("id", "strategy", "kind": "RateLimit") in every rule, and each string is an allocation to make and
// then to sweep. A slot holds the last string that hashed to it; a miss just replaces it.
const INTERN_SLOTS = 256;
const INTERN_MAX_LENGTH: usize = 32;

export class JsonParser {
  error: string = "";
  private pos: usize = 0;
  private interned: StaticArray<string | null> = new StaticArray<string | null>(INTERN_SLOTS);

  constructor(private ptr: usize, private len: usize) {}

  parse(): JsonValue | null {
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.pos != this.len) return this.fail("unexpected trailing data");
    return v;
  }

  private fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + " at byte " + this.pos.toString();
    return null;
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

  private value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.ws();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      const v = new JsonValue(JsonKind.String);
      v.str = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) { const v = new JsonValue(JsonKind.Bool); v.bool = true; return v; }
    if (this.literal("false")) return new JsonValue(JsonKind.Bool);
    if (this.literal("null")) return new JsonValue(JsonKind.Null);
    return this.fail(c < 0 ? "unexpected end of input" : "unexpected character");
  }

  private object(depth: i32): JsonValue | null {
    this.pos++; // {
    const obj = new JsonValue(JsonKind.Object);
    this.ws();
    if (this.peek() == 0x7d) { this.pos++; return obj; }
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const key = this.string();
      if (key === null) return null;
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      const v = this.value(depth + 1);
      if (v === null) return null;
      obj.keys.push(key);
      obj.items.push(v);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x7d) { this.pos++; return obj; }
      return this.fail("expected ',' or '}'");
    }
  }

  private array(depth: i32): JsonValue | null {
    this.pos++; // [
    const arr = new JsonValue(JsonKind.Array);
    this.ws();
    if (this.peek() == 0x5d) { this.pos++; return arr; }
    while (true) {
      const v = this.value(depth + 1);
      if (v === null) return null;
      arr.items.push(v);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x5d) { this.pos++; return arr; }
      return this.fail("expected ',' or ']'");
    }
  }

  private number(): JsonValue | null {
    const start = this.pos;
    let negative = false;
    if (this.peek() == 0x2d) { negative = true; this.pos++; }
    let mantissa: f64 = 0;
    let digits = 0;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) { mantissa = mantissa * 10 + <f64>(this.peek() - 0x30); this.pos++; digits++; }
    if (digits == 0) return this.fail("expected a digit");
    let scale: i32 = 0;
    if (this.peek() == 0x2e) {
      this.pos++;
      let fractionDigits = 0;
      while (this.peek() >= 0x30 && this.peek() <= 0x39) { mantissa = mantissa * 10 + <f64>(this.peek() - 0x30); scale--; this.pos++; fractionDigits++; }
      if (fractionDigits == 0) return this.fail("expected a digit after '.'");
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      let expNegative = false;
      if (this.peek() == 0x2b || this.peek() == 0x2d) { expNegative = this.peek() == 0x2d; this.pos++; }
      let exp: i32 = 0;
      let expDigits = 0;
      while (this.peek() >= 0x30 && this.peek() <= 0x39) { if (exp < 100000) exp = exp * 10 + (this.peek() - 0x30); this.pos++; expDigits++; }
      if (expDigits == 0) return this.fail("expected a digit in the exponent");
      scale += expNegative ? -exp : exp;
    }
    const v = new JsonValue(JsonKind.Number);
    // Powers of ten by multiplication (exact up to 1e22, far beyond any value the configuration
    // accepts): Math.pow would bring its tables into the module.
    let power: f64 = 1;
    for (let k = scale < 0 ? -scale : scale; k > 0 && power < Infinity; k--) power *= 10;
    const magnitude = scale < 0 ? mantissa / power : mantissa * power;
    v.num = negative ? -magnitude : magnitude;
    if (this.pos == start) return this.fail("bad number");
    return v;
  }

  /** Parses a string at the current '"'; validates UTF-8 and escapes. */
  private string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    let ascii = true;
    while (true) {
      if (this.pos >= this.len) { this.fail("unterminated string"); return null; }
      const c = <i32>load<u8>(this.ptr + this.pos);
      if (c == 0x22) {
        if (ascii && out.length == 0 && this.pos - runStart <= INTERN_MAX_LENGTH) {
          const s = this.internRun(runStart, this.pos);
          this.pos++;
          return s;
        }
        // Without escapes (nearly always) the run is the string: no concatenation.
        const run = this.decodeRun(runStart, this.pos);
        this.pos++;
        return out.length == 0 ? run : out + run;
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c == 0x5c) {
        out += this.decodeRun(runStart, this.pos);
        this.pos++;
        if (this.pos >= this.len) { this.fail("unterminated escape"); return null; }
        const e = <i32>load<u8>(this.ptr + this.pos);
        this.pos++;
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          const unit = this.hex4();
          if (unit < 0) { this.fail("bad \\u escape"); return null; }
          out += String.fromCharCode(unit);
        } else { this.fail("bad escape"); return null; }
        runStart = this.pos;
        continue;
      }
      if (c >= 0x80) {
        ascii = false;
        const n = this.utf8Length(c);
        if (n == 0 || this.pos + <usize>n > this.len) { this.fail("invalid UTF-8"); return null; }
        for (let i = 1; i < n; i++) {
          if ((<i32>load<u8>(this.ptr + this.pos + <usize>i) & 0xc0) != 0x80) { this.fail("invalid UTF-8"); return null; }
        }
        this.pos += <usize>n;
        continue;
      }
      this.pos++;
    }
  }

  private utf8Length(lead: i32): i32 {
    if (lead >= 0xc2 && lead <= 0xdf) return 2;
    if (lead >= 0xe0 && lead <= 0xef) return 3;
    if (lead >= 0xf0 && lead <= 0xf4) return 4;
    return 0;
  }

  private hex4(): i32 {
    if (this.len - this.pos < 4) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.ptr + this.pos);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }

  /** The ASCII run [from, to) as a string, the same string as the last equal run in its slot. */
  private internRun(from: usize, to: usize): string {
    const n = to - from;
    let hash: u32 = <u32>n;
    for (let i: usize = 0; i < n; i++) hash = (hash ^ <u32>load<u8>(this.ptr + from + i)) * 16777619;
    const slot = <i32>((hash ^ (hash >> 16)) & (INTERN_SLOTS - 1));
    const cached = unchecked(this.interned[slot]);
    if (cached !== null && <usize>cached.length == n && sameAscii(cached, this.ptr + from, n)) return cached;
    const s = this.decodeRun(from, to);
    unchecked(this.interned[slot] = s);
    return s;
  }

  private decodeRun(from: usize, to: usize): string {
    return to > from ? String.UTF8.decodeUnsafe(this.ptr + from, to - from) : "";
  }
}

/** Whether `s` (UTF-16) holds exactly the n ASCII bytes at ptr. */
function sameAscii(s: string, ptr: usize, n: usize): bool {
  const chars = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u16>(chars + (i << 1)) != <u32>load<u8>(ptr + i)) return false;
  }
  return true;
}
