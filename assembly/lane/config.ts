// The `lanes` section of the filter configuration (docs/filter-config.md, "Lanes"), decoded once per
// on_configure into byte strings, so that the request path compares raw bytes and never allocates.
import { Bytes } from "../abi";
import { JsonValue, JsonKind, NONE } from "../config/json";
import { FieldReader } from "../config/reader";

export const MAX_LANES = 64;
const MAX_LANE_NAME = 63;
const MAX_KEY = 64;
const MAX_BLOCKS = 32;
const MAX_CONDITIONS = 32;
const MAX_VALUE = 1024;

export const enum MatchKind { Exact, Prefix, Present }

/** One compared part of the request: exact or prefix bytes, or mere presence. */
export class Condition {
  constructor(public kind: MatchKind, public value: ArrayBuffer, public ignoreCase: bool) {}
}

/** A header or query parameter by name, with its condition. */
export class NamedCondition {
  constructor(public name: Bytes, public condition: Condition) {}
}

/** Conditions that must all hold; none at all matches every request. */
export class Block {
  path: Condition | null = null;
  method: Condition | null = null;
  headers: NamedCondition[] = [];
  query: NamedCondition[] = [];
}

/** Colouring into one lane: any block matching gives the request the lane. */
export class ColourRule {
  constructor(public lane: i32, public blocks: Block[]) {}
}

export class Lanes {
  header: Bytes = new Bytes("");
  baggageKey: Bytes = new Bytes("");
  names: ArrayBuffer[] = [];
  colour: ColourRule[] = [];
  /** Some colouring rule reads the path / the query: fetch :path once per request for them. */
  needsPath: bool = false;
}

/** {"header", "baggageKey", "names": [...], "colour": [{"lane", "when": [block…]}]} */
export function decodeLanes(v: JsonValue, r: FieldReader): Lanes | null {
  const j = r.json;
  const at = "lanes";
  if (j.kind(v) != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
  if (!r.knownKeys(v, at, ["header", "baggageKey", "names", "colour"])) return null;
  const lanes = new Lanes();
  const header = token(v, at, "header", r);
  const key = token(v, at, "baggageKey", r);
  if (header === null || key === null) return null;
  lanes.header = new Bytes(header);
  lanes.baggageKey = new Bytes(key);
  const names = j.get(v, "names");
  const count = j.kind(names) == JsonKind.Array ? j.size(names) : 0;
  if (count == 0 || count > MAX_LANES) {
    r.bad(at + ".names", "must be an array of 1 to " + MAX_LANES.toString() + " lane names");
    return null;
  }
  const seen: string[] = [];
  let n = j.first(names);
  for (let i = 0; i < count; i++) {
    const name = j.kind(n) == JsonKind.String ? j.str(n) : "";
    if (!isLaneName(name) || seen.includes(name)) {
      r.bad(at + ".names[" + i.toString() + "]", "must be a distinct lane name (letters, digits, - _ ., at most 63)");
      return null;
    }
    seen.push(name);
    lanes.names.push(String.UTF8.encode(name));
    n = j.next(n);
  }
  const colour = j.get(v, "colour");
  if (colour != NONE && !decodeColour(colour, seen, lanes, r)) return null;
  return lanes;
}

function decodeColour(v: JsonValue, names: string[], lanes: Lanes, r: FieldReader): bool {
  const j = r.json;
  const at = "lanes.colour";
  if (j.kind(v) != JsonKind.Array || j.size(v) > MAX_LANES) return r.bad(at, "must be an array of at most " + MAX_LANES.toString() + " rules");
  let item = j.first(v);
  for (let i = 0; i < j.size(v); i++) {
    const here = at + "[" + i.toString() + "]";
    if (j.kind(item) != JsonKind.Object) return r.bad(here, "must be an object");
    if (!r.knownKeys(item, here, ["lane", "when"])) return false;
    const lane = j.get(item, "lane");
    const index = j.kind(lane) == JsonKind.String ? names.indexOf(j.str(lane)) : -1;
    if (index < 0) return r.bad(here + ".lane", "must be one of lanes.names");
    const when = j.get(item, "when");
    const count = j.kind(when) == JsonKind.Array ? j.size(when) : 0;
    if (count == 0 || count > MAX_BLOCKS) {
      return r.bad(here + ".when", "must be an array of 1 to " + MAX_BLOCKS.toString() + " blocks");
    }
    const blocks: Block[] = [];
    let b = j.first(when);
    for (let k = 0; k < count; k++) {
      const block = decodeBlock(b, here + ".when[" + k.toString() + "]", lanes, r);
      if (block === null) return false;
      blocks.push(block);
      b = j.next(b);
    }
    lanes.colour.push(new ColourRule(index, blocks));
    item = j.next(item);
  }
  return true;
}

function decodeBlock(v: JsonValue, at: string, lanes: Lanes, r: FieldReader): Block | null {
  const j = r.json;
  if (j.kind(v) != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
  if (!r.knownKeys(v, at, ["path", "ignoreCase", "method", "headers", "query"])) return null;
  const block = new Block();
  const ignoreCase = r.flag(v, at, "ignoreCase", false);
  const path = j.get(v, "path");
  if (path != NONE) {
    block.path = decodeCondition(path, at + ".path", ignoreCase, false, r);
    if (block.path === null) return null;
    lanes.needsPath = true;
  }
  const method = j.get(v, "method");
  if (method != NONE) {
    block.method = decodeCondition(method, at + ".method", false, false, r);
    if (block.method === null) return null;
  }
  if (!decodeNamed(j.get(v, "headers"), at + ".headers", true, block.headers, r)) return null;
  if (!decodeNamed(j.get(v, "query"), at + ".query", false, block.query, r)) return null;
  if (block.query.length > 0) lanes.needsPath = true;
  return r.ok ? block : null;
}

/** [[name, condition], …]; header names are lower-case tokens. */
function decodeNamed(v: JsonValue, at: string, header: bool, into: NamedCondition[], r: FieldReader): bool {
  const j = r.json;
  if (v == NONE) return true;
  if (j.kind(v) != JsonKind.Array || j.size(v) > MAX_CONDITIONS) return r.bad(at, "must be an array of at most " + MAX_CONDITIONS.toString() + " [name, condition] pairs");
  let pair = j.first(v);
  for (let i = 0; i < j.size(v); i++) {
    const here = at + "[" + i.toString() + "]";
    const two = j.kind(pair) == JsonKind.Array && j.size(pair) == 2;
    const n = two ? j.first(pair) : NONE;
    if (j.kind(n) != JsonKind.String) return r.bad(here, "must be [name, condition]");
    const name = j.str(n);
    const valid = header ? isLowerToken(name, 256) : name.length > 0 && name.length <= MAX_VALUE;
    if (!valid) return r.bad(here, header ? "the name must be a lower-case header name" : "the name must be 1 to 1024 characters");
    const condition = decodeCondition(j.next(n), here, false, true, r);
    if (condition === null) return false;
    into.push(new NamedCondition(new Bytes(name), condition));
    pair = j.next(pair);
  }
  return true;
}

/** {"exact": s} | {"prefix": s} | {"present": true} (presence only where `presence`). */
function decodeCondition(v: JsonValue, at: string, ignoreCase: bool, presence: bool, r: FieldReader): Condition | null {
  const j = r.json;
  if (j.kind(v) != JsonKind.Object || j.size(v) != 1) { r.bad(at, "must be {\"exact\": …}, {\"prefix\": …} or {\"present\": true}"); return null; }
  const key = j.first(v);
  const value = key + 1;
  if (j.is(key, "present")) {
    if (!presence || j.kind(value) != JsonKind.Bool || !j.bool(value)) { r.bad(at + ".present", "must be true, for a header or query parameter"); return null; }
    return new Condition(MatchKind.Present, new ArrayBuffer(0), false);
  }
  const exact = j.is(key, "exact");
  if (!exact && !j.is(key, "prefix")) { r.bad(at + "." + j.str(key), "unknown field"); return null; }
  const s = j.kind(value) == JsonKind.String ? j.str(value) : "";
  if (j.kind(value) != JsonKind.String || s.length > MAX_VALUE || hasControl(s)) {
    r.bad(at + "." + (exact ? "exact" : "prefix"), "must be a string of at most " + MAX_VALUE.toString() + " characters without CR, LF or NUL");
    return null;
  }
  return new Condition(exact ? MatchKind.Exact : MatchKind.Prefix, String.UTF8.encode(s), ignoreCase);
}

function token(v: JsonValue, at: string, name: string, r: FieldReader): string | null {
  const j = r.json;
  const f = j.get(v, name);
  const s = j.kind(f) == JsonKind.String ? j.str(f) : "";
  if (!isLowerToken(s, MAX_KEY)) {
    r.bad(at + "." + name, "must be a lower-case header name of at most " + MAX_KEY.toString() + " characters");
    return null;
  }
  return s;
}

function isLowerToken(s: string, max: i32): bool {
  if (s.length == 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e || c == 0x21 ||
      (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x5e || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

function isLaneName(s: string): bool {
  if (s.length == 0 || s.length > MAX_LANE_NAME) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
    const inner = c == 0x2d || c == 0x5f || c == 0x2e;
    if (!alnum && !(inner && i > 0 && i < s.length - 1)) return false;
  }
  return true;
}

function hasControl(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return true;
  }
  return false;
}
