// Reading the fields of a parsed JSON configuration (./json.ts) with error reporting: every field
// is checked here (the filter must never trap on any input), and the first problem is kept as
// `error`, naming its place (`rules[3].strategy.threshold: …`). Shared by the configuration's own
// sections and by each strategy, which decodes its own slice next to its check.
import { Json, JsonValue, JsonKind, NONE } from "./json";
import { RateLimitService } from "./service";

export const MAX_INT: f64 = 2147483647;
/** Room for the keys of the largest object decoded (`fields` grows it for a larger one). */
const MAX_FIELDS = 8;

export class FieldReader {
  error: string = "";
  /** The rule being decoded, or -1: inside a rule, places are relative to it (".strategy"), and
   *  "rules[i]" is written only into an error. */
  rule: i32 = -1;

  private values: StaticArray<JsonValue> = new StaticArray<JsonValue>(MAX_FIELDS);

  constructor(public json: Json) {}

  @inline field(i: i32): JsonValue { return unchecked(this.values[i]); }

  /** Keeps the first error; returns false so that callers can `return reader.bad(…)`. */
  bad(field: string, message: string): bool {
    if (this.error.length == 0) {
      const place = this.rule >= 0 ? "rules[" + this.rule.toString() + "]" + field : field;
      this.error = place.length > 0 ? place + ": " + message : message;
    }
    return false;
  }

  get ok(): bool { return this.error.length == 0; }

  /** Every key of `obj` is one of `allowed`. (A StaticArray literal in the call is a new array at
   *  every call, like an Array literal: what is decoded once per rule passes a module constant.) */
  knownKeys(obj: JsonValue, at: string, allowed: StaticArray<string>): bool { return this.fields(obj, at, allowed); }

  /** knownKeys, and in the same pass over the keys the value of each of `allowed` (the first, if
   *  repeated; NONE if absent) as `field(i)`, i its index in `allowed`: one pass instead of one
   *  `get` per field. Valid until the next `fields` or `knownKeys`. */
  fields(obj: JsonValue, at: string, allowed: StaticArray<string>): bool {
    const j = this.json;
    if (allowed.length > this.values.length) this.values = new StaticArray<JsonValue>(allowed.length);
    const values = this.values;
    for (let i = 0; i < allowed.length; i++) unchecked(values[i] = NONE);
    let k = j.first(obj);
    let f = 0;
    for (let i = j.size(obj); i > 0; i--) {
      f = j.find(k, allowed, f);
      if (f < 0) return this.bad(at + (at.length > 0 || this.rule >= 0 ? "." : "") + j.str(k), "unknown field");
      if (unchecked(values[f]) == NONE) unchecked(values[f] = k + 1);
      k = j.next(k + 1);
    }
    return true;
  }

  /** An integer field in [min, max]; `fallback` when absent and not required. */
  int(obj: JsonValue, at: string, name: string, min: f64, max: f64, required: bool, fallback: i64): i64 {
    return this.intOf(this.json.get(obj, name), at, name, min, max, required, fallback);
  }

  /** `int` of value `v` (NONE: absent) of field `name`. */
  intOf(v: JsonValue, at: string, name: string, min: f64, max: f64, required: bool, fallback: i64): i64 {
    const j = this.json;
    if (v == NONE) {
      if (required) this.bad(at + "." + name, "is required");
      return fallback;
    }
    const n = j.kind(v) == JsonKind.Number ? j.num(v) : NaN;
    if (n != Math.floor(n) || n < min || n > max) {
      this.bad(at + "." + name, "must be an integer from " + (<i64>min).toString() + " to " + (<i64>max).toString());
      return fallback;
    }
    return <i64>n;
  }

  str(obj: JsonValue, at: string, name: string, maxLength: i32): string | null {
    return this.strOf(this.json.get(obj, name), at, name, maxLength);
  }

  strOf(v: JsonValue, at: string, name: string, maxLength: i32): string | null {
    const j = this.json;
    const s = j.kind(v) == JsonKind.String ? j.str(v) : "";
    if (s.length == 0 || s.length > maxLength) {
      this.bad(at + "." + name, "must be a non-empty string of at most " + maxLength.toString() + " characters");
      return null;
    }
    return s;
  }

  /** A true/false field; `fallback` when absent. */
  flag(obj: JsonValue, at: string, name: string, fallback: bool): bool {
    return this.flagOf(this.json.get(obj, name), at, name, fallback);
  }

  flagOf(v: JsonValue, at: string, name: string, fallback: bool): bool {
    const j = this.json;
    if (v == NONE) return fallback;
    if (j.kind(v) != JsonKind.Bool) { this.bad(at + "." + name, "must be true or false"); return fallback; }
    return j.bool(v);
  }
}

/** What a strategy's decoder gets: its JSON object, where it is, and what the rule around it says.
 *  One for all the rules, refilled for each. */
export class StrategyInput {
  spec: JsonValue = NONE;
  /** Its place, relative to the rule (FieldReader.rule). */
  readonly at: string = ".strategy";
  ruleId: string = "";
  constructor(public reader: FieldReader, public service: RateLimitService | null) {}
  get json(): Json { return this.reader.json; }
}
