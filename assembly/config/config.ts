// The filter configuration (docs/filter-config.md, schema/filter-config.v1.schema.json), decoded
// once per on_configure into flat objects. This file decodes the sections around the strategies
// (version, options, rateLimitService, each rule's id, resource and fallback); each strategy decodes
// its own slice (../strategies). A configuration with any error is refused as a whole (the previous
// one keeps serving).
import { JsonValue, JsonKind, JsonParser } from "./json";
import { FieldReader, StrategyInput } from "./reader";
import { RateLimitService } from "./service";
import { Strategy } from "../strategies/strategy";
import { decodeStrategy } from "../strategies";
import { keyWriter } from "../strategies/key";
import { Fallback, RuleIdHeader, decodeFallback, decodeRuleIdHeader } from "../fallback/fallback";
import { Lanes, decodeLanes } from "../lane/config";

/** Without options.ruleIdHeader no reply names its rule: one value for all the rules. */
const NO_ID_HEADER = new RuleIdHeader("", "");

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
  private reader: FieldReader = new FieldReader();
  private service: RateLimitService | null = null;

  get error(): string { return this.reader.error; }
  set error(message: string) { this.reader.error = message; }

  decode(ptr: usize, len: usize): Config | null {
    const r = this.reader;
    if (len == 0) { r.bad("", "the configuration is empty (expected {\"version\": 1, ...})"); return null; }
    const parser = new JsonParser(ptr, len);
    const root = parser.parse();
    if (root === null) { r.bad("", "not valid JSON: " + parser.error); return null; }
    if (root.kind != JsonKind.Object) { r.bad("", "expected a JSON object"); return null; }
    const version = root.get("version");
    if (version === null || version.kind != JsonKind.Number || version.num != 1) {
      r.bad("version", "must be 1 (this filter understands configuration version 1)");
      return null;
    }
    const config = new Config();
    if (!r.knownKeys(root, "", ["version", "options", "rateLimitService", "rules", "lanes"])) return null;
    const options = root.get("options");
    if (options !== null && !this.decodeOptions(options, config.options)) return null;
    const service = root.get("rateLimitService");
    if (service !== null) {
      this.service = this.decodeService(service);
      if (this.service === null) return null;
    }
    const lanes = root.get("lanes");
    if (lanes !== null && (config.lanes = decodeLanes(lanes, r)) === null) return null;
    const rules = root.get("rules");
    if (rules === null || rules.kind != JsonKind.Array) { r.bad("rules", "must be an array"); return null; }
    if (rules.items.length > 100000) { r.bad("rules", "more than 100000 rules"); return null; }
    for (let i = 0; i < rules.items.length; i++) {
      const rule = this.decodeRule(i, rules.items[i], config.options.ruleIdHeader);
      if (rule === null) return null;
      config.rules.push(rule);
    }
    return config;
  }

  private decodeOptions(v: JsonValue, options: Options): bool {
    const r = this.reader;
    if (v.kind != JsonKind.Object) return r.bad("options", "must be an object");
    if (!r.knownKeys(v, "options", ["maxQueuedPerVm", "casRetries", "onCasExhausted", "ruleIdHeader"])) return false;
    const idHeader = v.get("ruleIdHeader");
    if (idHeader !== null) {
      const name = decodeRuleIdHeader(idHeader, "options.ruleIdHeader", r);
      if (name === null) return false;
      options.ruleIdHeader = name;
    }
    options.maxQueuedPerVm = <i32>r.int(v, "options", "maxQueuedPerVm", 0, 1000000, false, 1000);
    options.casRetries = <i32>r.int(v, "options", "casRetries", 1, 1000, false, 16);
    const policy = v.get("onCasExhausted");
    if (policy !== null) {
      if (policy.kind != JsonKind.String || (policy.str != "block" && policy.str != "allow")) {
        return r.bad("options.onCasExhausted", "must be \"block\" or \"allow\"");
      }
      options.allowOnCasExhausted = policy.str == "allow";
    }
    return r.ok;
  }

  private decodeRule(index: i32, v: JsonValue, ruleIdHeader: string): Rule | null {
    const r = this.reader;
    const at = "rules[" + index.toString() + "]";
    if (v.kind != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
    if (!r.knownKeys(v, at, ["id", "resource", "strategy", "fallback"])) return null;
    const id = r.str(v, at, "id", 2048);
    if (id === null) return null;
    if (!isPrintableAscii(id)) { r.bad(at + ".id", "must be printable ASCII without spaces"); return null; }
    const resource = r.str(v, at, "resource", 1024);
    if (resource === null) return null;
    if (!validResource(resource)) { r.bad(at + ".resource", "must be /path or METHOD:/path (printable ASCII)"); return null; }
    const s = v.get("strategy");
    if (s === null || s.kind != JsonKind.Object) { r.bad(at + ".strategy", "must be an object"); return null; }
    const kind = s.get("kind");
    if (kind === null || kind.kind != JsonKind.String) { r.bad(at + ".strategy.kind", "is required"); return null; }
    const strategy = decodeStrategy(kind.str, new StrategyInput(s, at + ".strategy", id, r, this.service));
    if (strategy === null) return null;
    const f = v.get("fallback");
    const idHeader = ruleIdHeader.length == 0 ? NO_ID_HEADER : new RuleIdHeader(ruleIdHeader, id);
    const fallback = f !== null ? decodeFallback(f, at + ".fallback", r, strategy.defaultGrpcStatus(), idHeader)
      : Fallback.blocked(strategy.name(), strategy.defaultGrpcStatus(), idHeader);
    if (fallback === null) return null;
    const key = keyWriter.start().text("sergo:").text(strategy.name()).text("Strategy:").text(id).text("#");
    strategy.writeSignature(key);
    strategy.key = key.take();
    const rule = new Rule(id, resource, strategy, fallback);
    const errorStatus = strategy.statusOnError();
    if (errorStatus != 0) rule.serviceErrorReply = Fallback.serviceError(errorStatus, idHeader);
    return rule;
  }

  private decodeService(v: JsonValue): RateLimitService | null {
    const r = this.reader;
    const at = "rateLimitService";
    if (v.kind != JsonKind.Object) { r.bad(at, "must be an object"); return null; }
    if (!r.knownKeys(v, at, ["cluster", "authority", "path", "domain", "timeoutMs"])) return null;
    const cluster = r.str(v, at, "cluster", 256);
    if (cluster === null) return null;
    const authority = v.get("authority") === null ? cluster : r.str(v, at, "authority", 256);
    const path = v.get("path") === null ? "/json" : r.str(v, at, "path", 256);
    const domain = v.get("domain") === null ? "sergo" : r.str(v, at, "domain", 256);
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
