// Reading the fields of a decoded JSON configuration with error reporting: every field is checked
// here (the filter must never trap on any input), and the first problem is kept as `error`, naming
// its place (`rules[3].strategy.threshold: …`). Shared by the configuration's own sections and by
// each strategy, which decodes its own slice next to its check.
import { JsonValue, JsonKind } from "./json";
import { RateLimitService } from "./service";

export const MAX_INT: f64 = 2147483647;

export class FieldReader {
  error: string = "";

  /** Keeps the first error; returns false so that callers can `return reader.bad(…)`. */
  bad(field: string, message: string): bool {
    if (this.error.length == 0) this.error = field.length > 0 ? field + ": " + message : message;
    return false;
  }

  get ok(): bool { return this.error.length == 0; }

  knownKeys(obj: JsonValue, at: string, allowed: string[]): bool {
    for (let i = 0; i < obj.keys.length; i++) {
      if (!allowed.includes(obj.keys[i])) return this.bad(at + (at.length > 0 ? "." : "") + obj.keys[i], "unknown field");
    }
    return true;
  }

  /** An integer field in [min, max]; `fallback` when absent and not required. */
  int(obj: JsonValue, at: string, name: string, min: f64, max: f64, required: bool, fallback: i64): i64 {
    const v = obj.get(name);
    if (v === null) {
      if (required) this.bad(at + "." + name, "is required");
      return fallback;
    }
    if (v.kind != JsonKind.Number || v.num != Math.floor(v.num) || v.num < min || v.num > max) {
      this.bad(at + "." + name, "must be an integer from " + (<i64>min).toString() + " to " + (<i64>max).toString());
      return fallback;
    }
    return <i64>v.num;
  }

  str(obj: JsonValue, at: string, name: string, maxLength: i32): string | null {
    const v = obj.get(name);
    if (v === null || v.kind != JsonKind.String || v.str.length == 0 || v.str.length > maxLength) {
      this.bad(at + "." + name, "must be a non-empty string of at most " + maxLength.toString() + " characters");
      return null;
    }
    return v.str;
  }

  /** A true/false field; `fallback` when absent. */
  flag(obj: JsonValue, at: string, name: string, fallback: bool): bool {
    const v = obj.get(name);
    if (v === null) return fallback;
    if (v.kind != JsonKind.Bool) { this.bad(at + "." + name, "must be true or false"); return fallback; }
    return v.bool;
  }
}

/** What a strategy's decoder gets: its JSON object, where it is, and what the rule around it says. */
export class StrategyInput {
  constructor(public spec: JsonValue, public at: string, public ruleId: string, public reader: FieldReader,
              public service: RateLimitService | null) {}
}
