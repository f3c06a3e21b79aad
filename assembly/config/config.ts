// The filter configuration (docs/filter-config.md, schema/filter-config.v1.schema.json), decoded
// once per on_configure into flat objects. This file decodes the sections around the strategies
// (version, options, rateLimitService, each rule's id, resource and fallback); each strategy decodes
// its own slice (../strategies). A configuration with any error is refused as a whole (the previous
// one keeps serving).
import { Json, JsonValue, JsonKind, NONE, ROOT } from "./json";
import { FieldReader, StrategyInput } from "./reader";
import { RateLimitService } from "./service";
import { Strategy } from "../strategies/strategy";
import { decodeStrategy } from "../strategies";
import { keyWriter } from "../strategies/key";
import { Fallback, RuleIdHeader, decodeFallback, decodeRuleIdHeader } from "../fallback/fallback";
import { Lanes, decodeLanes } from "../lane/config";

/** Its fields, in `FieldReader.field` order (a module constant: see `FieldReader.knownKeys`). */
const RULE_FIELDS: StaticArray<string> = ["id", "resource", "strategy", "fallback"];

/** Without options.ruleIdHeader no reply names its rule: one value for all the rules. */
const NO_ID_HEADER = new RuleIdHeader("", "");

/** "sergo:<Kind>Strategy:" of each kind met so far (a few: one string per kind, not three writes
 *  per rule). */
const prefixKinds: string[] = [];
const prefixes: string[] = [];

function keyPrefix(kind: string): string {
  for (let i = 0; i < prefixKinds.length; i++) if (unchecked(prefixKinds[i]) == kind) return unchecked(prefixes[i]);
  const prefix = "sergo:" + kind + "Strategy:";
  prefixKinds.push(kind);
  prefixes.push(prefix);
  return prefix;
}

export class Rule {
  /** strategy.watchesResponse(), packed() and endsWithStream(), asked once. */
  readonly watchesResponse: bool;
  readonly packed: bool;
  readonly endsWithStream: bool;
  /** The reply when the rate-limit service failed and the rule fails closed (Global rules). */
  serviceErrorReply: Fallback | null = null;
  constructor(public id: string, public resource: string, public strategy: Strategy, public fallback: Fallback) {
    this.watchesResponse = strategy.watchesResponse();
    this.packed = strategy.packed();
    this.endsWithStream = this.packed && strategy.endsWithStream();
  }
}

export class Options {
  maxQueuedPerVm: i32 = 1000;
  casRetries: i32 = 16;
  allowOnCasExhausted: bool = false;
  /** A header naming the refusing rule in block replies; "" for none (the default). */
  ruleIdHeader: string = "";
}

export class Config {
  rules: Rule[] = [];
  options: Options = new Options();
  /** Traffic lanes (assembly/lane), or null when the configuration has none. */
  lanes: Lanes | null = null;
}

/** Decodes with error reporting; `error` names the rule index and field of the first problem. */
export class ConfigDecoder {
  error: string = "";
  private service: RateLimitService | null = null;

  /** The configuration at [ptr, ptr + len) (not empty: the root context says so itself). */
  decode(ptr: usize, len: usize): Config | null {
    const json = new Json(ptr, len);
    if (!json.parse()) { json.free(); this.error = "not valid JSON: " + json.error; return null; }
    const r = new FieldReader(json);
    const config = this.decodeRoot(r, ROOT);
    json.free();
    if (config === null) this.error = r.error;
    return config;
  }

  private decodeRoot(r: FieldReader, root: JsonValue): Config | null {
    const j = r.json;
    if (j.kind(root) != JsonKind.Object) { r.bad("", "expected a JSON object"); return null; }
    const version = j.get(root, "version");
    if (j.kind(version) != JsonKind.Number || j.num(version) != 1) {
      r.bad("version", "must be 1 (this filter understands configuration version 1)");
      return null;
    }
    const config = new Config();
    if (!r.knownKeys(root, "", ["version", "options", "rateLimitService", "rules", "lanes"])) return null;
    const options = j.get(root, "options");
    if (options != NONE && !this.decodeOptions(r, options, config.options)) return null;
    const service = j.get(root, "rateLimitService");
    if (service != NONE) {
      this.service = this.decodeService(r, service);
      if (this.service === null) return null;
    }
    const lanes = j.get(root, "lanes");
    if (lanes != NONE && (config.lanes = decodeLanes(lanes, r)) === null) return null;
    const rules = j.get(root, "rules");
    if (j.kind(rules) != JsonKind.Array) { r.bad("rules", "must be an array"); return null; }
    const n = j.size(rules);
    if (n > 100000) { r.bad("rules", "more than 100000 rules"); return null; }
    const input = new StrategyInput(r, this.service);
    let item = j.first(rules);
    for (let i = 0; i < n; i++) {
      r.rule = i;
      const rule = this.decodeRule(r, item, input, config.options.ruleIdHeader);
      if (rule === null) return null;
      config.rules.push(rule);
      item = j.next(item);
    }
    r.rule = -1;
    return config;
  }

  private decodeOptions(r: FieldReader, v: JsonValue, options: Options): bool {
    const j = r.json;
    if (j.kind(v) != JsonKind.Object) return r.bad("options", "must be an object");
    if (!r.knownKeys(v, "options", ["maxQueuedPerVm", "casRetries", "onCasExhausted", "ruleIdHeader"])) return false;
    const idHeader = j.get(v, "ruleIdHeader");
    if (idHeader != NONE) {
      const name = decodeRuleIdHeader(idHeader, "options.ruleIdHeader", r);
      if (name === null) return false;
      options.ruleIdHeader = name;
    }
    options.maxQueuedPerVm = <i32>r.int(v, "options", "maxQueuedPerVm", 0, 1000000, false, 1000);
    options.casRetries = <i32>r.int(v, "options", "casRetries", 1, 1000, false, 16);
    const policy = j.get(v, "onCasExhausted");
    if (policy != NONE) {
      if (!j.is(policy, "block") && !j.is(policy, "allow")) {
        return r.bad("options.onCasExhausted", "must be \"block\" or \"allow\"");
      }
      options.allowOnCasExhausted = j.is(policy, "allow");
    }
    return r.ok;
  }

  /** Rule `r.rule` at `v`; its places are relative to it (FieldReader.rule). */
  private decodeRule(r: FieldReader, v: JsonValue, input: StrategyInput, ruleIdHeader: string): Rule | null {
    const j = r.json;
    if (j.kind(v) != JsonKind.Object) { r.bad("", "must be an object"); return null; }
    if (!r.fields(v, "", RULE_FIELDS)) return null;
    const idValue = r.field(0);
    const resourceValue = r.field(1);
    const s = r.field(2);
    const f = r.field(3);
    const id = r.strOf(idValue, "", "id", 2048);
    if (id === null) return null;
    const printable = j.plain(idValue) ? printableAt(j.bytes(idValue), j.byteLength(idValue)) : isPrintableAscii(id);
    if (!printable) { r.bad(".id", "must be printable ASCII without spaces"); return null; }
    const resource = r.strOf(resourceValue, "", "resource", 1024);
    if (resource === null) return null;
    if (!validResource(j, resourceValue, resource)) { r.bad(".resource", "must be /path or METHOD:/path (printable ASCII)"); return null; }
    if (j.kind(s) != JsonKind.Object) { r.bad(".strategy", "must be an object"); return null; }
    const kind = j.get(s, "kind");
    if (j.kind(kind) != JsonKind.String) { r.bad(".strategy.kind", "is required"); return null; }
    input.spec = s;
    input.ruleId = id;
    const strategy = decodeStrategy(kind, input);
    if (strategy === null) return null;
    const idHeader = ruleIdHeader.length == 0 ? NO_ID_HEADER : new RuleIdHeader(ruleIdHeader, id);
    const fallback = f != NONE ? decodeFallback(f, ".fallback", r, strategy.defaultGrpcStatus(), idHeader)
      : Fallback.blocked(strategy.name(), strategy.defaultGrpcStatus(), idHeader);
    if (fallback === null) return null;
    const key = keyWriter.start().text(keyPrefix(strategy.name())).text(id).text("#");
    strategy.writeSignature(key);
    strategy.key = key.take();
    const rule = new Rule(id, resource, strategy, fallback);
    const errorStatus = strategy.statusOnError();
    if (errorStatus != 0) rule.serviceErrorReply = Fallback.serviceError(errorStatus, idHeader);
    return rule;
  }

  private decodeService(r: FieldReader, v: JsonValue): RateLimitService | null {
    const j = r.json;
    const at = "rateLimitService";
    if (j.kind(v) != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
    if (!r.knownKeys(v, at, ["cluster", "authority", "path", "domain", "timeoutMs"])) return null;
    const cluster = r.str(v, at, "cluster", 256);
    if (cluster === null) return null;
    const authority = j.get(v, "authority") == NONE ? cluster : r.str(v, at, "authority", 256);
    const path = j.get(v, "path") == NONE ? "/json" : r.str(v, at, "path", 256);
    const domain = j.get(v, "domain") == NONE ? "sergo" : r.str(v, at, "domain", 256);
    const timeoutMs = r.int(v, at, "timeoutMs", 1, 60000, false, 20);
    if (authority === null || path === null || domain === null || !r.ok) return null;
    if (!isPrintableAscii(cluster) || !isPrintableAscii(authority) || !path.startsWith("/") || !isPrintableAscii(path)) {
      r.bad(at, "cluster, authority and path must be printable ASCII; path starts with /");
      return null;
    }
    return new RateLimitService(cluster, authority, path, domain, <u32>timeoutMs);
  }
}

function isPrintableAscii(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** Whether the n bytes at p are all printable ASCII (0x21..0x7e). */
function printableAt(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** Resource value `v` (its text `s`): checked on its bytes, or on the UTF-8 of its text when those
 *  differ (escapes; anything not ASCII fails either way). */
function validResource(j: Json, v: JsonValue, s: string): bool {
  if (j.plain(v)) return validResourceAt(j.bytes(v), j.byteLength(v));
  const utf8 = String.UTF8.encode(s);
  return validResourceAt(changetype<usize>(utf8), utf8.byteLength);
}

/** `/path` or `METHOD:/path` (METHOD upper-case letters), printable ASCII. */
function validResourceAt(p: usize, n: i32): bool {
  if (n == 0 || !printableAt(p, n)) return false;
  if (load<u8>(p) == 0x2f) return true;
  let i = 0;
  while (i < n && load<u8>(p + <usize>i) >= 0x41 && load<u8>(p + <usize>i) <= 0x5a) i++;
  return i > 0 && i + 1 < n && load<u8>(p + <usize>i) == 0x3a && load<u8>(p + <usize>i + 1) == 0x2f;
}
