// TrafficLane (traffic.opensergo.io/v1alpha1, OpenSergo's draft; docs/traffic.md): which requests
// entering an app are coloured, the lane they get, the instances that serve the lane, and the name
// that carries the lane (header and baggage key). The upstream example is not valid YAML; this
// reads its intent: spec.selector.app, spec.rules.{traffic.http, workload.selector, lane.name,
// traceIdBaggage}. Only conditions the filter can compare on raw bytes are accepted (exact, prefix,
// presence); anything else is an error naming the field, never a silent drop.
import type { SourcePos } from '../../diagnostics.ts';
import { DEFAULT_LANE_KEY, type LaneMatch, type LaneStringMatch } from '../../ir/lane.ts';
import { LIMITS } from '../../ir/limits.ts';
import type { Cursor } from '../cursor.ts';
import { readBoolean, readList, readMap, readString, readText } from '../fields.ts';
import { readApp } from '../metadata.ts';
import type { Reporter } from '../reporter.ts';

export const TRAFFIC_LANE_KIND = 'TrafficLane';

const SPEC_FIELDS = ['selector', 'rules'];
const RULE_FIELDS = ['traffic', 'workload', 'lane', 'traceIdBaggage'];
const MATCH_FIELDS = ['name', 'uri', 'method', 'headers', 'queryParams', 'ignoreUriCase'];
/** Istio match fields the filter cannot evaluate at the entry: refused by name. */
const UNSUPPORTED_MATCH_FIELDS = ['authority', 'scheme', 'withoutHeaders', 'port', 'sourceLabels', 'gateways', 'sourceNamespace', 'statPrefix'];
/** A lane name: a Kubernetes label value (it names a subset too), also a token and a baggage value. */
const LANE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** An HTTP header name in lower case, also a W3C baggage key. */
const KEY = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export interface LaneSpec {
  entryApp?: { app: string; pos: SourcePos };
  name?: string;
  matches: LaneMatch[];
  workloadLabels: Array<[string, string]>;
  key: string;
  keyPos: SourcePos;
  /** False when a part could not be read (errors reported). */
  complete: boolean;
}

export function readTrafficLane(spec: Cursor, r: Reporter): LaneSpec {
  const before = r.errorCount;
  r.warnUnknownFields(spec, SPEC_FIELDS);
  const entryApp = readEntryApp(spec.get('selector'), r);
  const rules = readMap(spec.get('rules'), r);
  const out: LaneSpec = { entryApp, matches: [], workloadLabels: [], key: DEFAULT_LANE_KEY, keyPos: spec.get('rules').pos, complete: false };
  if (rules !== undefined) readRules(rules, r, out);
  out.complete = r.errorCount === before;
  return out;
}

/** `spec.selector.app`: the app whose proxies colour (required). */
function readEntryApp(c: Cursor, r: Reporter): LaneSpec['entryApp'] {
  const selector = readMap(c, r);
  if (selector === undefined) return undefined;
  for (const { key } of selector.keys()) if (key !== 'app') r.warning(selector.get(key), 'ignored: only app selects where requests are coloured');
  const app = selector.get('app');
  if (!app.present) {
    r.error(app, 'is required: the app whose proxies colour requests into the lane');
    return undefined;
  }
  const value = readApp(app, r);
  return value === undefined ? undefined : { app: value, pos: app.pos };
}

function readRules(rules: Cursor, r: Reporter, out: LaneSpec): void {
  r.warnUnknownFields(rules, RULE_FIELDS);
  const lane = readMap(rules.get('lane'), r);
  if (lane !== undefined) {
    r.warnUnknownFields(lane, ['name']);
    out.name = readLaneName(lane.get('name'), r);
  }
  out.matches = readTraffic(rules.get('traffic'), r);
  out.workloadLabels = readWorkload(rules.get('workload'), r);
  const key = rules.get('traceIdBaggage');
  if (key.present) {
    const value = readString(key, r, { nonEmpty: true, maxLength: LIMITS.laneKey.maxLength });
    if (value !== undefined && !KEY.test(value.toLowerCase())) {
      r.error(key, `'${value}' is not an HTTP header name (a token); it names the lane's header and baggage key`);
    } else if (value !== undefined) {
      out.key = value.toLowerCase();
      out.keyPos = key.pos;
    }
  }
}

function readLaneName(c: Cursor, r: Reporter): string | undefined {
  const value = readString(c, r, { nonEmpty: true, maxLength: LIMITS.laneName.maxLength });
  if (value === undefined) return undefined;
  if (!LANE_NAME.test(value)) {
    r.error(c, `'${value}' is not a valid lane name (letters, digits, -, _ and .; starting and ending with a letter or digit): it is sent as a header value and a baggage value, and names a subset`);
    return undefined;
  }
  return value;
}

/** `traffic.http`: one block of conditions, or a list of blocks (any of which colours a request). */
function readTraffic(c: Cursor, r: Reporter): LaneMatch[] {
  const traffic = readMap(c, r);
  if (traffic === undefined) return [];
  r.warnUnknownFields(traffic, ['http']);
  const http = traffic.get('http');
  if (!http.present) {
    r.error(http, 'is required: the conditions (uri, method, headers, queryParams) that colour a request');
    return [];
  }
  const blocks = http.isSeq ? readList(http, r, { nonEmpty: true }) ?? [] : [http];
  if (blocks.length > LIMITS.laneMatches.maxItems) {
    r.error(http, `has ${blocks.length} blocks; at most ${LIMITS.laneMatches.maxItems} allowed`);
    return [];
  }
  return blocks.flatMap((b) => readMatchBlock(b, r));
}

function readMatchBlock(c: Cursor, r: Reporter): LaneMatch[] {
  if (readMap(c, r) === undefined) return [];
  const before = r.errorCount;
  for (const field of UNSUPPORTED_MATCH_FIELDS) {
    const f = c.get(field);
    if (f.present) r.error(f, `is not supported by TrafficLane: the filter colours on uri, method, headers and queryParams only`);
  }
  r.warnUnknownFields(c, [...MATCH_FIELDS, ...UNSUPPORTED_MATCH_FIELDS]);
  const block: LaneMatch = { headers: [], query: [] };
  const uri = c.get('uri');
  if (uri.present) block.path = readStringMatch(uri, r, false);
  const ignoreCase = c.get('ignoreUriCase');
  if (ignoreCase.present && readBoolean(ignoreCase, r) === true) block.ignoreUriCase = true;
  const method = c.get('method');
  if (method.present) block.method = readStringMatch(method, r, false);
  block.headers = readNamedMatches(c.get('headers'), r, true);
  block.query = readNamedMatches(c.get('queryParams'), r, false);
  return r.errorCount === before ? [block] : [];
}

/** `headers` / `queryParams`: name → StringMatch, an empty match meaning "present". */
function readNamedMatches(c: Cursor, r: Reporter, header: boolean): Array<[string, LaneStringMatch]> {
  const map = readMap(c, r, { optional: true });
  if (map === undefined) return [];
  const keys = map.keys();
  if (keys.length > LIMITS.laneConditions.maxItems) {
    r.error(c, `has ${keys.length} conditions; at most ${LIMITS.laneConditions.maxItems} allowed`);
    return [];
  }
  const out: Array<[string, LaneStringMatch]> = [];
  for (const { key } of keys) {
    const field = map.get(key);
    const name = header ? key.toLowerCase() : key;
    if (header && (!KEY.test(name) || name.length > LIMITS.headerName.maxLength)) {
      r.error(field, `'${key}' is not an HTTP header name`);
      continue;
    }
    if (!header && (name === '' || name.length > LIMITS.laneMatchValue.maxLength || /[\s&=#]/.test(name))) {
      r.error(field, `'${key}' is not a query parameter name`);
      continue;
    }
    const match = readStringMatch(field, r, true);
    if (match !== undefined) out.push([name, match]);
  }
  return out;
}

/** Istio's StringMatch: exactly one of exact, prefix (regex is refused); empty → present when allowed. */
function readStringMatch(c: Cursor, r: Reporter, presence: boolean): LaneStringMatch | undefined {
  if (!c.present || (c.isMap && c.keys().length === 0)) {
    if (presence) return { kind: 'present' };
    r.error(c, 'must give exact or prefix');
    return undefined;
  }
  if (!c.isMap) {
    r.error(c, `must be a mapping with exact or prefix, not ${c.describe()}`);
    return undefined;
  }
  const regex = c.get('regex');
  if (regex.present) {
    r.error(regex, 'regex is not supported by TrafficLane: the filter compares raw bytes at the entry; use exact or prefix');
    return undefined;
  }
  r.warnUnknownFields(c, ['exact', 'prefix', 'regex']);
  const given = (['exact', 'prefix'] as const).filter((k) => c.get(k).present);
  if (given.length !== 1) {
    r.error(c, given.length === 0 ? 'must give exact or prefix' : 'must give one of exact and prefix, not both');
    return undefined;
  }
  const kind = given[0]!;
  const value = readText(c.get(kind), r);
  if (value === undefined) return undefined;
  if (value.length > LIMITS.laneMatchValue.maxLength || /[\r\n\0]/.test(value)) {
    r.error(c.get(kind), `must be at most ${LIMITS.laneMatchValue.maxLength} characters without CR, LF or NUL`);
    return undefined;
  }
  return { kind, value };
}

/** `workload.selector`: the labels of the lane's instances (its subset of every host). */
function readWorkload(c: Cursor, r: Reporter): Array<[string, string]> {
  const workload = readMap(c, r);
  if (workload === undefined) return [];
  r.warnUnknownFields(workload, ['selector']);
  const selector = readMap(workload.get('selector'), r);
  if (selector === undefined) return [];
  const out: Array<[string, string]> = [];
  for (const { key } of selector.keys()) {
    const field = selector.get(key);
    const value = readText(field, r);
    if (value === undefined) continue;
    if (!LABEL_KEY.test(key) || key.length > 317) r.error(field, `'${key}' is not a Kubernetes label key`);
    else if (!LABEL_VALUE.test(value) || value.length > 63) r.error(field, `'${value}' is not a Kubernetes label value`);
    else out.push([key, value]);
  }
  if (out.length === 0 && selector.keys().length === 0) r.error(workload.get('selector'), 'must name at least one label of the lane\'s instances');
  return out;
}
