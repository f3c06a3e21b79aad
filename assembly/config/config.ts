// The filter configuration (docs/filter-config.md, schema/filter-config.v1.schema.json), decoded
// once per on_configure into flat objects. Every field is checked again here: the filter must never
// trap on any input, and a configuration with any error is refused as a whole (the previous one
// keeps serving).
import { JsonValue, JsonKind, JsonParser } from "./json";
import { Strategy, Kind, kindName } from "../strategies/strategy";
import { RateLimit } from "../strategies/ratelimit";
import { Throttling } from "../strategies/throttling";
import { ConcurrencyLimit } from "../strategies/concurrency";
import { CircuitBreaker } from "../strategies/breaker";
import { GlobalRateLimit, RateLimitService } from "../strategies/global-ratelimit";
import { Fallback, defaultGrpcStatus, GRPC_MAX_STATUS } from "../fallback/fallback";

export class Rule {
  constructor(public index: i32, public id: string, public resource: string, public strategy: Strategy,
              public fallback: Fallback) {}
}

export class Options {
  maxQueuedPerVm: i32 = 1000;
  casRetries: i32 = 16;
  allowOnCasExhausted: bool = false;
}

export class Config {
  rules: Rule[] = [];
  options: Options = new Options();
  rateLimitService: RateLimitService | null = null;
}

const MAX_INT: f64 = 2147483647;

/** Decodes with error reporting; `error` names the rule index and field of the first problem. */
export class ConfigDecoder {
  error: string = "";
  private service: RateLimitService | null = null;

  decode(ptr: usize, len: usize): Config | null {
    if (len == 0) return this.fail("", "the configuration is empty (expected {\"version\": 1, ...})");
    const parser = new JsonParser(ptr, len);
    const root = parser.parse();
    if (root === null) return this.fail("", "not valid JSON: " + parser.error);
    if (root.kind != JsonKind.Object) return this.fail("", "expected a JSON object");
    const version = root.get("version");
    if (version === null || version.kind != JsonKind.Number || version.num != 1) {
      return this.fail("version", "must be 1 (this filter understands configuration version 1)");
    }
    const config = new Config();
    if (!this.knownKeys(root, "", ["version", "options", "rateLimitService", "rules"])) return null;
    const options = root.get("options");
    if (options !== null && !this.decodeOptions(options, config.options)) return null;
    const service = root.get("rateLimitService");
    if (service !== null) {
      this.service = this.decodeService(service);
      if (this.service === null) return null;
      config.rateLimitService = this.service;
    }
    const rules = root.get("rules");
    if (rules === null || rules.kind != JsonKind.Array) return this.fail("rules", "must be an array");
    if (rules.items.length > 100000) return this.fail("rules", "more than 100000 rules");
    for (let i = 0; i < rules.items.length; i++) {
      const rule = this.decodeRule(i, rules.items[i]);
      if (rule === null) return null;
      config.rules.push(rule);
    }
    return config;
  }

  private fail(field: string, message: string): Config | null {
    if (this.error.length == 0) this.error = field.length > 0 ? field + ": " + message : message;
    return null;
  }
  private bad(field: string, message: string): bool { this.fail(field, message); return false; }

  private knownKeys(obj: JsonValue, at: string, allowed: string[]): bool {
    for (let i = 0; i < obj.keys.length; i++) {
      if (!allowed.includes(obj.keys[i])) return this.bad(at + (at.length > 0 ? "." : "") + obj.keys[i], "unknown field");
    }
    return true;
  }

  /** An integer field in [min, max]; `fallback` when absent and not required. */
  private int(obj: JsonValue, at: string, name: string, min: f64, max: f64, required: bool, fallback: i64): i64 {
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

  private str(obj: JsonValue, at: string, name: string, maxLength: i32): string | null {
    const v = obj.get(name);
    if (v === null || v.kind != JsonKind.String || v.str.length == 0 || v.str.length > maxLength) {
      this.bad(at + "." + name, "must be a non-empty string of at most " + maxLength.toString() + " characters");
      return null;
    }
    return v.str;
  }

  private decodeOptions(v: JsonValue, options: Options): bool {
    if (v.kind != JsonKind.Object) return this.bad("options", "must be an object");
    if (!this.knownKeys(v, "options", ["maxQueuedPerVm", "casRetries", "onCasExhausted"])) return false;
    options.maxQueuedPerVm = <i32>this.int(v, "options", "maxQueuedPerVm", 0, 1000000, false, 1000);
    options.casRetries = <i32>this.int(v, "options", "casRetries", 1, 1000, false, 16);
    const policy = v.get("onCasExhausted");
    if (policy !== null) {
      if (policy.kind != JsonKind.String || (policy.str != "block" && policy.str != "allow")) {
        return this.bad("options.onCasExhausted", "must be \"block\" or \"allow\"");
      }
      options.allowOnCasExhausted = policy.str == "allow";
    }
    return this.error.length == 0;
  }

  private decodeRule(index: i32, v: JsonValue): Rule | null {
    const at = "rules[" + index.toString() + "]";
    if (v.kind != JsonKind.Object) { this.bad(at, "must be an object"); return null; }
    if (!this.knownKeys(v, at, ["id", "resource", "strategy", "fallback"])) return null;
    const id = this.str(v, at, "id", 2048);
    if (id === null) return null;
    if (!isPrintableAscii(id)) { this.bad(at + ".id", "must be printable ASCII without spaces"); return null; }
    const resource = this.str(v, at, "resource", 1024);
    if (resource === null) return null;
    if (!validResource(resource)) {
      { this.bad(at + ".resource", "must be /path or METHOD:/path (printable ASCII)"); return null; }
    }
    const s = v.get("strategy");
    if (s === null || s.kind != JsonKind.Object) { this.bad(at + ".strategy", "must be an object"); return null; }
    const strategy = this.decodeStrategy(s, at + ".strategy", id);
    if (strategy === null) return null;
    let fallback: Fallback;
    const f = v.get("fallback");
    if (f !== null) {
      const decoded = this.decodeFallback(f, at + ".fallback", strategy.kind);
      if (decoded === null) return null;
      fallback = decoded;
    } else {
      fallback = Fallback.blocked(strategy.kind, id);
    }
    strategy.key = String.UTF8.encode("sergo:" + kindName(strategy.kind) + ":" + id + "#" + strategy.signature());
    return new Rule(index, id, resource, strategy, fallback);
  }

  private decodeService(v: JsonValue): RateLimitService | null {
    const at = "rateLimitService";
    if (v.kind != JsonKind.Object) { this.bad(at, "must be an object"); return null; }
    if (!this.knownKeys(v, at, ["cluster", "authority", "path", "domain", "timeoutMs"])) return null;
    const cluster = this.str(v, at, "cluster", 256);
    if (cluster === null) return null;
    const authority = v.get("authority") === null ? cluster : this.str(v, at, "authority", 256);
    const path = v.get("path") === null ? "/json" : this.str(v, at, "path", 256);
    const domain = v.get("domain") === null ? "sergo" : this.str(v, at, "domain", 256);
    const timeoutMs = this.int(v, at, "timeoutMs", 1, 60000, false, 20);
    if (authority === null || path === null || domain === null || this.error.length > 0) return null;
    if (!isPrintableAscii(cluster) || !isPrintableAscii(authority) || !path.startsWith("/") || !isPrintableAscii(path)) {
      this.bad(at, "cluster, authority and path must be printable ASCII; path starts with /");
      return null;
    }
    return new RateLimitService(cluster, authority, path, domain, <u32>timeoutMs);
  }

  private decodeStrategy(s: JsonValue, at: string, ruleId: string): Strategy | null {
    const kind = s.get("kind");
    if (kind === null || kind.kind != JsonKind.String) { this.bad(at + ".kind", "is required"); return null; }
    const k = kind.str;
    if (k == "RateLimit") {
      if (!this.knownKeys(s, at, ["kind", "threshold", "windowMs", "mode", "failOpen", "batch"])) return null;
      const threshold = this.int(s, at, "threshold", 0, MAX_INT, true, 0);
      const windowMs = this.int(s, at, "windowMs", 1, MAX_INT, true, 1);
      const mode = s.get("mode");
      let global = false;
      if (mode !== null) {
        if (mode.kind != JsonKind.String || (mode.str != "Local" && mode.str != "Global")) {
          this.bad(at + ".mode", "must be Local or Global");
          return null;
        }
        global = mode.str == "Global";
      }
      const batch = this.int(s, at, "batch", 1, 1_000_000, false, 1);
      let failOpen = false;
      const fo = s.get("failOpen");
      if (fo !== null) {
        if (fo.kind != JsonKind.Bool) { this.bad(at + ".failOpen", "must be true or false"); return null; }
        failOpen = fo.bool;
      }
      if (this.error.length > 0) return null;
      if (!global) {
        if (s.get("batch") !== null || fo !== null) { this.bad(at, "batch and failOpen apply to mode Global only"); return null; }
        return new RateLimit(threshold, windowMs);
      }
      const service = this.service;
      if (service === null) {
        this.bad(at + ".mode", "Global needs a top-level rateLimitService (the Envoy cluster of the rate-limit service)");
        return null;
      }
      return new GlobalRateLimit(ruleId, threshold, windowMs, batch, failOpen, service);
    }
    if (k == "Throttling") {
      if (!this.knownKeys(s, at, ["kind", "intervalMs", "queueTimeoutMs"])) return null;
      const interval = this.int(s, at, "intervalMs", 0, MAX_INT, true, 0);
      const queueTimeout = this.int(s, at, "queueTimeoutMs", 1, MAX_INT, true, 1);
      return this.error.length > 0 ? null : new Throttling(interval, queueTimeout);
    }
    if (k == "ConcurrencyLimit") {
      if (!this.knownKeys(s, at, ["kind", "maxConcurrency"])) return null;
      const max = this.int(s, at, "maxConcurrency", 0, MAX_INT, true, 0);
      return this.error.length > 0 ? null : new ConcurrencyLimit(max);
    }
    if (k == "CircuitBreaker") return this.decodeBreaker(s, at);
    this.bad(at + ".kind", "unknown strategy kind \"" + k + "\"");
    return null;
  }

  private decodeBreaker(s: JsonValue, at: string): Strategy | null {
    if (!this.knownKeys(s, at, ["kind", "mode", "triggerRatio", "statDurationMs", "recoveryTimeoutMs",
                                "minRequestAmount", "maxAllowedRtMs", "errorStatus"])) return null;
    const mode = s.get("mode");
    if (mode === null || mode.kind != JsonKind.String || (mode.str != "SlowRequestRatio" && mode.str != "ErrorRequestRatio")) {
      this.bad(at + ".mode", "must be SlowRequestRatio or ErrorRequestRatio");
      return null;
    }
    const slow = mode.str == "SlowRequestRatio";
    const ratio = s.get("triggerRatio");
    if (ratio === null || ratio.kind != JsonKind.Number || !(ratio.num >= 0 && ratio.num <= 1)) {
      this.bad(at + ".triggerRatio", "must be a number from 0 to 1");
      return null;
    }
    const stat = this.int(s, at, "statDurationMs", 1, MAX_INT, true, 1);
    const recovery = this.int(s, at, "recoveryTimeoutMs", 1, MAX_INT, true, 1);
    const min = this.int(s, at, "minRequestAmount", 1, MAX_INT, true, 1);
    const maxRt = this.int(s, at, "maxAllowedRtMs", 0, MAX_INT, slow, 0);
    if (this.error.length > 0) return null;
    const breaker = new CircuitBreaker(slow, ratio.num, stat, recovery, min, maxRt);
    const ranges = s.get("errorStatus");
    if (ranges !== null) {
      if (slow) { this.bad(at + ".errorStatus", "applies to ErrorRequestRatio only"); return null; }
      if (ranges.kind != JsonKind.Array || ranges.items.length == 0 || ranges.items.length > 64) {
        this.bad(at + ".errorStatus", "must be a list of 1 to 64 [from, to] ranges");
        return null;
      }
      const n = ranges.items.length;
      breaker.errorFrom = new StaticArray<u32>(n);
      breaker.errorTo = new StaticArray<u32>(n);
      for (let i = 0; i < n; i++) {
        const r = ranges.items[i];
        const where = at + ".errorStatus[" + i.toString() + "]";
        if (r.kind != JsonKind.Array || r.items.length != 2 || !isStatus(r.items[0]) || !isStatus(r.items[1]) ||
            r.items[0].num > r.items[1].num) {
          this.bad(where, "must be [from, to] with 100 <= from <= to <= 599");
          return null;
        }
        breaker.errorFrom[i] = <u32>r.items[0].num;
        breaker.errorTo[i] = <u32>r.items[1].num;
      }
    }
    return breaker;
  }

  /** `kind`: the rule's strategy, whose default gRPC status applies when none is given. */
  private decodeFallback(f: JsonValue, at: string, kind: Kind): Fallback | null {
    if (f.kind != JsonKind.Object) { this.bad(at, "must be an object"); return null; }
    if (!this.knownKeys(f, at, ["status", "body", "headers", "grpcStatus"])) return null;
    const status = this.int(f, at, "status", 200, 599, true, 429);
    const grpcStatus = <i32>this.int(f, at, "grpcStatus", 0, GRPC_MAX_STATUS, false, defaultGrpcStatus(kind));
    if (this.error.length > 0) return null;
    let body = "";
    const b = f.get("body");
    if (b !== null) {
      if (b.kind != JsonKind.String || b.str.length > 65536) { this.bad(at + ".body", "must be a string of at most 65536 characters"); return null; }
      body = b.str;
    }
    const names: string[] = [];
    const values: string[] = [];
    const h = f.get("headers");
    if (h !== null) {
      if (h.kind != JsonKind.Array || h.items.length > 64) { this.bad(at + ".headers", "must be a list of at most 64 [name, value] pairs"); return null; }
      for (let i = 0; i < h.items.length; i++) {
        const pair = h.items[i];
        const where = at + ".headers[" + i.toString() + "]";
        if (pair.kind != JsonKind.Array || pair.items.length != 2 ||
            pair.items[0].kind != JsonKind.String || pair.items[1].kind != JsonKind.String) {
          this.bad(where, "must be [name, value] strings");
          return null;
        }
        const name = pair.items[0].str;
        const value = pair.items[1].str;
        if (!isToken(name)) { this.bad(where, "header name must be an HTTP token"); return null; }
        if (!isHeaderValue(value)) { this.bad(where, "header value must not contain CR, LF or NUL"); return null; }
        names.push(name.toLowerCase());
        values.push(value);
      }
    }
    return new Fallback(<u32>status, body, names, values, grpcStatus);
  }
}

function isStatus(v: JsonValue): bool {
  return v.kind == JsonKind.Number && v.num == Math.floor(v.num) && v.num >= 100 && v.num <= 599;
}

function isPrintableAscii(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function validResource(s: string): bool {
  if (!isPrintableAscii(s)) return false;
  const colon = s.indexOf(":");
  const slash = s.indexOf("/");
  if (slash < 0) return false;
  if (colon >= 0 && colon < slash) {
    if (colon == 0 || colon + 1 != slash) return false;
    for (let i = 0; i < colon; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x41 || c > 0x5a) return false;
    }
    return true;
  }
  return slash == 0;
}

function isToken(s: string): bool {
  if (s.length == 0 || s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b ||
      c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

function isHeaderValue(s: string): bool {
  if (s.length > 8192) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  return true;
}

export { Kind };
