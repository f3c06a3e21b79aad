// The limits of the filter configuration have one source, src/ir/limits.ts: the translator imports
// it. The two sides that cannot import it are held to it here: the JSON Schema (every bound in it is
// one of the module's limits, and every limit is in it) and the filter's decoder in assembly/config
// (build/sergo.wasm, run by src/host, accepts each bound and refuses one step beyond it).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, type Count, type Length, type Range } from '../../src/ir/limits.ts';
import { compileModule, ManualClock, ProxyWasmHost } from '../../src/host/index.ts';
import { repoRoot } from '../support/paths.ts';

type LimitName = keyof typeof LIMITS;
type SchemaNode = Record<string, unknown>;

const schema = JSON.parse(readFileSync(resolve(repoRoot, 'schema/filter-config.v1.schema.json'), 'utf8')) as SchemaNode;

/** Which schema nodes each limit bounds (JSON pointers). */
const IN_SCHEMA: Record<LimitName, string[]> = {
  rules: ['/properties/rules'],
  ruleId: ['/definitions/rule/properties/id'],
  resource: ['/definitions/rule/properties/resource'],
  threshold: ['/definitions/rateLimit/properties/threshold'],
  windowMs: ['/definitions/rateLimit/properties/windowMs'],
  batch: ['/definitions/rateLimit/properties/batch'],
  intervalMs: ['/definitions/throttling/properties/intervalMs'],
  queueTimeoutMs: ['/definitions/throttling/properties/queueTimeoutMs'],
  maxConcurrency: ['/definitions/concurrencyLimit/properties/maxConcurrency'],
  triggerRatio: ['/definitions/circuitBreaker/properties/triggerRatio'],
  statDurationMs: ['/definitions/circuitBreaker/properties/statDurationMs'],
  recoveryTimeoutMs: ['/definitions/circuitBreaker/properties/recoveryTimeoutMs'],
  minRequestAmount: ['/definitions/circuitBreaker/properties/minRequestAmount'],
  maxAllowedRtMs: ['/definitions/circuitBreaker/properties/maxAllowedRtMs'],
  errorStatusRanges: ['/definitions/circuitBreaker/properties/errorStatus'],
  errorStatusCode: ['/definitions/circuitBreaker/properties/errorStatus/items/items'],
  fallbackStatus: ['/definitions/fallback/properties/status'],
  statusOnError: ['/definitions/rateLimit/properties/statusOnError'],
  fallbackBody: ['/definitions/fallback/properties/body'],
  fallbackHeaders: ['/definitions/fallback/properties/headers'],
  headerName: ['/definitions/fallback/properties/headers/items/items/0', '/definitions/laneBlock/properties/headers/items/items/0'],
  headerValue: ['/definitions/fallback/properties/headers/items/items/1'],
  grpcStatus: ['/definitions/fallback/properties/grpcStatus'],
  serviceText: ['cluster', 'authority', 'path', 'domain'].map((f) => `/properties/rateLimitService/properties/${f}`),
  serviceTimeoutMs: ['/properties/rateLimitService/properties/timeoutMs'],
  maxQueuedPerVm: ['/properties/options/properties/maxQueuedPerVm'],
  casRetries: ['/properties/options/properties/casRetries'],
  lanes: ['/properties/lanes/properties/names'],
  laneRules: ['/properties/lanes/properties/colour'],
  laneName: ['/properties/lanes/properties/names/items'],
  laneKey: ['/properties/lanes/properties/header', '/properties/lanes/properties/baggageKey'],
  laneMatches: ['/definitions/laneRule/properties/when'],
  laneConditions: ['/definitions/laneBlock/properties/headers', '/definitions/laneBlock/properties/query'],
  laneMatchValue: ['/definitions/laneMatch/oneOf/0/properties/exact', '/definitions/laneMatch/oneOf/1/properties/prefix'],
  laneQueryName: ['/definitions/laneBlock/properties/query/items/items/0'],
};
/** `[from, to]` and `[name, value]`: the shape of a pair, not a limit. */
const PAIRS = ['/definitions/circuitBreaker/properties/errorStatus/items', '/definitions/fallback/properties/headers/items',
  '/definitions/laneBlock/properties/headers/items', '/definitions/laneBlock/properties/query/items'];

const KEYWORDS: Record<string, string> = { min: 'minimum', max: 'maximum', minLength: 'minLength', maxLength: 'maxLength', minItems: 'minItems', maxItems: 'maxItems' };

function nodeAt(pointer: string): SchemaNode {
  let node: unknown = schema;
  for (const part of pointer.split('/').slice(1)) node = (node as Record<string, unknown>)[part];
  expect(node, pointer).toBeTypeOf('object');
  return node as SchemaNode;
}

function boundsOf(node: SchemaNode): Record<string, unknown> {
  return Object.fromEntries(Object.values(KEYWORDS).filter((k) => k in node).map((k) => [k, node[k]]));
}

/** Every node of the schema that carries a bound, by pointer. */
function boundedNodes(node: unknown, pointer = ''): string[] {
  if (typeof node !== 'object' || node === null) return [];
  const here = Object.keys(boundsOf(node as SchemaNode)).length > 0 ? [pointer] : [];
  return [...here, ...Object.entries(node).flatMap(([key, child]) => boundedNodes(child, `${pointer}/${key}`))];
}

describe('the schema takes its bounds from src/ir/limits.ts', () => {
  it.each(Object.keys(IN_SCHEMA) as LimitName[])('%s', (name) => {
    const limit = LIMITS[name] as Record<string, number>;
    const expected = Object.fromEntries(Object.entries(limit).map(([k, v]) => [KEYWORDS[k]!, v]));
    for (const pointer of IN_SCHEMA[name]) expect(boundsOf(nodeAt(pointer)), pointer).toEqual(expected);
  });

  it('every limit is in the table and every bound of the schema is a limit', () => {
    expect(Object.keys(IN_SCHEMA).sort()).toEqual(Object.keys(LIMITS).sort());
    const known = new Set([...Object.values(IN_SCHEMA).flat(), ...PAIRS]);
    const found = boundedNodes(schema);
    expect(found.length).toBeGreaterThan(30); // the walk reached the definitions
    expect(found.filter((p) => !known.has(p))).toEqual([]);
    for (const pointer of PAIRS) expect(boundsOf(nodeAt(pointer))).toEqual({ minItems: 2, maxItems: 2 });
  });
});

// ---- the filter's decoder ----

type Config = Record<string, unknown>;
const rule = (strategy: unknown, extra: Config = {}): Config => ({ id: 'r', resource: '/r', strategy, ...extra });
const rules = (...r: Config[]): Config => ({ version: 1, rules: r });
const rateLimit = (fields: Config = {}) => rules(rule({ kind: 'RateLimit', threshold: 1, windowMs: 1000, ...fields }));
const globalLimit = (fields: Config = {}, service: Config = {}): Config => ({
  version: 1,
  rateLimitService: { cluster: 'rls', ...service },
  rules: [rule({ kind: 'RateLimit', mode: 'Global', threshold: 2_147_483_647, windowMs: 1000, ...fields })],
});
const throttling = (fields: Config) => rules(rule({ kind: 'Throttling', intervalMs: 10, queueTimeoutMs: 100, ...fields }));
const breaker = (fields: Config) =>
  rules(rule({ kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 1000, recoveryTimeoutMs: 1000, minRequestAmount: 1, ...fields }));
const slowBreaker = (fields: Config) => breaker({ mode: 'SlowRequestRatio', maxAllowedRtMs: 100, ...fields });
const fallback = (fields: Config) => rules(rule({ kind: 'ConcurrencyLimit', maxConcurrency: 1 }, { fallback: { status: 429, ...fields } }));
const options = (fields: Config): Config => ({ version: 1, options: fields, rules: [] });
const lanes = (fields: Config = {}, block: Config = {}): Config => ({
  version: 1, rules: [], lanes: { header: 'x-lane', baggageKey: 'x-lane', names: ['a'], colour: [{ lane: 'a', when: [block] }], ...fields },
});

/** A configuration whose only unusual value is `v` at the limit's place. */
const RANGES: Partial<Record<LimitName, (v: number) => Config>> = {
  threshold: (v) => rateLimit({ threshold: v }),
  windowMs: (v) => rateLimit({ windowMs: v }),
  batch: (v) => globalLimit({ batch: v }),
  intervalMs: (v) => throttling({ intervalMs: v }),
  queueTimeoutMs: (v) => throttling({ queueTimeoutMs: v }),
  maxConcurrency: (v) => rules(rule({ kind: 'ConcurrencyLimit', maxConcurrency: v })),
  triggerRatio: (v) => breaker({ triggerRatio: v }),
  statDurationMs: (v) => breaker({ statDurationMs: v }),
  recoveryTimeoutMs: (v) => breaker({ recoveryTimeoutMs: v }),
  minRequestAmount: (v) => breaker({ minRequestAmount: v }),
  maxAllowedRtMs: (v) => slowBreaker({ maxAllowedRtMs: v }),
  errorStatusCode: (v) => breaker({ errorStatus: [[v, v]] }),
  fallbackStatus: (v) => fallback({ status: v }),
  statusOnError: (v) => globalLimit({ statusOnError: v }),
  grpcStatus: (v) => fallback({ grpcStatus: v }),
  serviceTimeoutMs: (v) => globalLimit({}, { timeoutMs: v }),
  maxQueuedPerVm: (v) => options({ maxQueuedPerVm: v }),
  casRetries: (v) => options({ casRetries: v }),
};

/** A configuration with a text of `n` characters at the limit's place. */
const LENGTHS: Partial<Record<LimitName, (n: number) => Config>> = {
  ruleId: (n) => rules({ ...rule({ kind: 'ConcurrencyLimit', maxConcurrency: 1 }), id: 'i'.repeat(n) }),
  resource: (n) => rules({ ...rule({ kind: 'ConcurrencyLimit', maxConcurrency: 1 }), resource: n === 0 ? '' : `/${'a'.repeat(n - 1)}` }),
  fallbackBody: (n) => fallback({ body: 'b'.repeat(n) }),
  headerName: (n) => fallback({ headers: [['h'.repeat(n), 'v']] }),
  headerValue: (n) => fallback({ headers: [['h', 'v'.repeat(n)]] }),
  serviceText: (n) => globalLimit({}, { cluster: 'c'.repeat(n) }),
  laneName: (n) => lanes({ names: ['a'.repeat(n)], colour: [] }),
  laneKey: (n) => lanes({ header: 'h'.repeat(n) }),
  laneMatchValue: (n) => lanes({}, { path: { exact: `/${'v'.repeat(n - 1)}` } }),
  laneQueryName: (n) => lanes({}, { query: [['q'.repeat(n), { present: true }]] }),
};

/** A configuration with `n` items in the limited list. */
const COUNTS: Partial<Record<LimitName, (n: number) => Config>> = {
  errorStatusRanges: (n) => breaker({ errorStatus: Array.from({ length: n }, () => [500, 599]) }),
  fallbackHeaders: (n) => fallback({ headers: Array.from({ length: n }, (_, i) => [`h${i}`, 'v']) }),
  rules: (n) => rules(...Array.from({ length: n }, (_, i) => ({ ...rule({ kind: 'ConcurrencyLimit', maxConcurrency: 1 }), id: `r${i}` }))),
  lanes: (n) => lanes({ names: Array.from({ length: n }, (_, i) => `l${i}`), colour: [] }),
  laneRules: (n) => lanes({ colour: Array.from({ length: n }, () => ({ lane: 'a', when: [{}] })) }),
  laneMatches: (n) => lanes({ colour: [{ lane: 'a', when: Array.from({ length: n }, () => ({})) }] }),
  laneConditions: (n) => lanes({}, { headers: Array.from({ length: n }, (_, i) => [`h${i}`, { present: true }]) }),
};

let host: ProxyWasmHost;
beforeAll(() => {
  const module = compileModule(readFileSync(resolve(repoRoot, 'build/sergo.wasm')));
  host = new ProxyWasmHost({ module, vms: 1, rootId: 'sergo', clock: new ManualClock(), configuration: '{"version": 1, "rules": []}' });
  expect(host.start()).toBe(true);
  return () => host.close();
});
const accepts = (config: Config): boolean => host.configure(JSON.stringify(config));

describe("the filter's decoder accepts each bound and refuses one step beyond", () => {
  it('covers every limit', () => {
    expect([...Object.keys(RANGES), ...Object.keys(LENGTHS), ...Object.keys(COUNTS)].sort()).toEqual(Object.keys(LIMITS).sort());
  });

  it.each(Object.keys(RANGES) as LimitName[])('%s (range)', (name) => {
    const { min, max } = LIMITS[name] as Range;
    const step = Number.isInteger(max) && max > 1 ? 1 : 0.01;
    const at = RANGES[name]!;
    expect([accepts(at(min)), accepts(at(max))], `${min}, ${max} accepted`).toEqual([true, true]);
    expect([accepts(at(min - step)), accepts(at(max + step))], `${min - step}, ${max + step} refused`).toEqual([false, false]);
  });

  it.each(Object.keys(LENGTHS) as LimitName[])('%s (length)', (name) => {
    const { minLength, maxLength } = LIMITS[name] as Length;
    const at = LENGTHS[name]!;
    expect(accepts(at(maxLength)), `${maxLength} characters accepted`).toBe(true);
    expect(accepts(at(maxLength + 1)), `${maxLength + 1} characters refused`).toBe(false);
    if (minLength !== undefined) expect(accepts(at(minLength - 1)), `${minLength - 1} characters refused`).toBe(false);
  });

  it.each(Object.keys(COUNTS) as LimitName[])('%s (count)', (name) => {
    const { minItems, maxItems } = LIMITS[name] as Count;
    const at = COUNTS[name]!;
    expect(accepts(at(maxItems)), `${maxItems} items accepted`).toBe(true);
    expect(accepts(at(maxItems + 1)), `${maxItems + 1} items refused`).toBe(false);
    if (minItems !== undefined) expect(accepts(at(minItems - 1)), `${minItems - 1} items refused`).toBe(false);
  }, 120_000);
});
