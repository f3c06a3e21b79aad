// Every validation rule: each bad input gives one diagnostic naming file:line:col, Kind/name, field.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics.ts';
import { concurrency, fallbackAction, objectDoc, rateLimit, rule, throttling } from '../support/documents.ts';
import { translateInline } from '../support/translate.ts';
import { positionOf } from '../support/workspace.ts';

/** A text in the input; `occurrence` picks a later appearance, `offset` moves right of its start. */
type Marker = string | { text: string; occurrence?: number; offset?: number };

function locate(yaml: string, at: Marker): { line: number; col: number } {
  const m = typeof at === 'string' ? { text: at } : at;
  const { line, col } = positionOf(yaml, m.text, m.occurrence ?? 1);
  return { line, col: col + (m.offset ?? 0) };
}

interface Case {
  title: string;
  yaml: string;
  /** Where the diagnostic points: the first character of `at` (see Marker). */
  at: Marker;
  object: string;
  field: string;
  message: string | RegExp;
}

const RL = (spec: string) => rateLimit('rl', spec);
const CB_BASE = {
  strategy: 'SlowRequestRatio',
  triggerRatio: "'60%'",
  statDuration: "'30s'",
  recoveryTimeout: "'5s'",
  minRequestAmount: '5',
  slowConditions: "\n  maxAllowedRt: '500ms'",
};
/** A circuit breaker with `changes` applied to the base fields (undefined removes a field). */
function CB(changes: Partial<Record<keyof typeof CB_BASE | 'errorConditions', string | undefined>>): string {
  const fields: Record<string, string | undefined> = { ...CB_BASE, ...changes };
  const spec = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return objectDoc('CircuitBreakerStrategy', 'cb', spec);
}
const FB = (desc: string) => fallbackAction('fb', `behavior: ReturnProvidedResponse\nbehaviorDesc:\n${desc.replace(/^/gm, '  ')}`);
const RULE = (spec: string) => objectDoc('FaultToleranceRule', 'r', spec);

const errorCases: Case[] = [
  { title: 'other fault-tolerance version', yaml: 'apiVersion: fault-tolerance.opensergo.io/v1beta1\nkind: RateLimitStrategy\nmetadata:\n  name: rl\nspec: {}\n', at: 'fault-tolerance', object: 'RateLimitStrategy/rl', field: 'apiVersion', message: 'is not supported (only fault-tolerance.opensergo.io/v1alpha1): its rules would not be enforced' },
  // RateLimitStrategy
  { title: 'missing metricType', yaml: RL('limitMode: Local\nthreshold: 1\nstatDurationSeconds: 1'), at: 'spec:', object: 'RateLimitStrategy/rl', field: 'spec.metricType', message: 'is required' },
  { title: 'unknown metricType', yaml: RL('metricType: Qps\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 1'), at: 'Qps', object: 'RateLimitStrategy/rl', field: 'spec.metricType', message: "'Qps' is not one of RequestAmount" },
  { title: 'failOpen with limitMode Local', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 1\nfailOpen: true'), at: 'true', object: 'RateLimitStrategy/rl', field: 'spec.failOpen', message: 'applies to limitMode Global only' },
  { title: 'batch with limitMode Local', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 10\nstatDurationSeconds: 1\nbatch: 5'), at: { text: 'batch: 5', offset: 7 }, object: 'RateLimitStrategy/rl', field: 'spec.batch', message: 'applies to limitMode Global only' },
  { title: 'failOpen as a string', yaml: RL("metricType: RequestAmount\nlimitMode: Global\nthreshold: 1\nstatDurationSeconds: 1\nfailOpen: 'yes'"), at: "'yes'", object: 'RateLimitStrategy/rl', field: 'spec.failOpen', message: "must be true or false, not a string ('yes')" },
  { title: 'batch 0', yaml: RL('metricType: RequestAmount\nlimitMode: Global\nthreshold: 10\nstatDurationSeconds: 1\nbatch: 0'), at: { text: 'batch: 0', offset: 7 }, object: 'RateLimitStrategy/rl', field: 'spec.batch', message: 'must be between 1 and 1000000, not 0' },
  { title: 'batch above the threshold', yaml: RL('metricType: RequestAmount\nlimitMode: Global\nthreshold: 10\nstatDurationSeconds: 1\nbatch: 11'), at: { text: 'batch: 11', offset: 7 }, object: 'RateLimitStrategy/rl', field: 'spec.batch', message: '11 is more than the threshold 10' },
  { title: 'missing threshold', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nstatDurationSeconds: 1'), at: 'spec:', object: 'RateLimitStrategy/rl', field: 'spec.threshold', message: 'is required' },
  { title: 'negative threshold', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: -1\nstatDurationSeconds: 1'), at: '-1', object: 'RateLimitStrategy/rl', field: 'spec.threshold', message: 'must be between 0 and 2147483647, not -1' },
  { title: 'fractional threshold', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1.5\nstatDurationSeconds: 1'), at: '1.5', object: 'RateLimitStrategy/rl', field: 'spec.threshold', message: 'must be an integer, not 1.5' },
  { title: 'quoted threshold', yaml: RL("metricType: RequestAmount\nlimitMode: Local\nthreshold: '10'\nstatDurationSeconds: 1"), at: "'10'", object: 'RateLimitStrategy/rl', field: 'spec.threshold', message: "must be an integer, not a string ('10')" },
  { title: 'statDurationSeconds 0', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 0'), at: { text: 'statDurationSeconds: 0', offset: 21 }, object: 'RateLimitStrategy/rl', field: 'spec.statDurationSeconds', message: 'must be between 1 and' },
  { title: 'no window at all', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1'), at: 'spec:', object: 'RateLimitStrategy/rl', field: 'spec.statDurationSeconds', message: 'is required (or the legacy statDuration' },
  { title: 'both window fields', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 1\nstatDuration: "1s"'), at: '"1s"', object: 'RateLimitStrategy/rl', field: 'spec.statDuration', message: 'either statDurationSeconds or the legacy statDuration, not both' },
  { title: 'composite legacy duration', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDuration: 1m30s'), at: '1m30s', object: 'RateLimitStrategy/rl', field: 'spec.statDuration', message: 'composite durations are not allowed' },
  { title: 'fractional legacy duration', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDuration: 1.5s'), at: '1.5s', object: 'RateLimitStrategy/rl', field: 'spec.statDuration', message: 'fractions are not allowed' },
  { title: 'zero legacy duration', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDuration: 0s'), at: '0s', object: 'RateLimitStrategy/rl', field: 'spec.statDuration', message: "'0s': must not be zero" },
  { title: 'numeric legacy duration', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDuration: 7'), at: '7', object: 'RateLimitStrategy/rl', field: 'spec.statDuration', message: 'must be a duration string' },
  // ThrottlingStrategy
  { title: 'zero queueTimeout', yaml: throttling('th', "minIntervalOfRequests: '20ms'\nqueueTimeout: '0ms'"), at: "'0ms'", object: 'ThrottlingStrategy/th', field: 'spec.queueTimeout', message: 'must not be zero' },
  { title: 'negative interval', yaml: throttling('th', "minIntervalOfRequests: '-5ms'\nqueueTimeout: '1s'"), at: "'-5ms'", object: 'ThrottlingStrategy/th', field: 'spec.minIntervalOfRequests', message: 'expected a whole number and one unit' },
  { title: 'unknown unit', yaml: throttling('th', "minIntervalOfRequests: '20us'\nqueueTimeout: '1s'"), at: "'20us'", object: 'ThrottlingStrategy/th', field: 'spec.minIntervalOfRequests', message: 'expected a whole number and one unit' },
  { title: 'missing queueTimeout', yaml: throttling('th', "minIntervalOfRequests: '20ms'"), at: 'spec:', object: 'ThrottlingStrategy/th', field: 'spec.queueTimeout', message: 'is required' },
  { title: 'too long for the filter', yaml: throttling('th', "minIntervalOfRequests: '20ms'\nqueueTimeout: '30d'"), at: "'30d'", object: 'ThrottlingStrategy/th', field: 'spec.queueTimeout', message: 'exceeds the filter' },
  // ConcurrencyLimitStrategy
  { title: 'negative maxConcurrency', yaml: concurrency('cl', 'maxConcurrency: -2\nlimitMode: Local'), at: '-2', object: 'ConcurrencyLimitStrategy/cl', field: 'spec.maxConcurrency', message: 'must be between 0 and' },
  { title: 'concurrency limitMode Global', yaml: concurrency('cl', 'maxConcurrency: 2\nlimitMode: Global'), at: 'Global', object: 'ConcurrencyLimitStrategy/cl', field: 'spec.limitMode', message: /not supported for ConcurrencyLimitStrategy: a cluster-wide concurrency limit needs a distributed semaphore .*which sergo-wasm does not provide/ },
  { title: 'missing limitMode', yaml: concurrency('cl', 'maxConcurrency: 2'), at: 'spec:', object: 'ConcurrencyLimitStrategy/cl', field: 'spec.limitMode', message: 'is required' },
  // CircuitBreakerStrategy
  { title: 'unknown breaker strategy', yaml: CB({ strategy: 'Latency' }), at: 'Latency', object: 'CircuitBreakerStrategy/cb', field: 'spec.strategy', message: 'is not one of SlowRequestRatio, ErrorRequestRatio' },
  { title: 'ratio above 100%', yaml: CB({ triggerRatio: "'101%'" }), at: "'101%'", object: 'CircuitBreakerStrategy/cb', field: 'spec.triggerRatio', message: "invalid percent '101%'" },
  { title: 'ratio as a number', yaml: CB({ triggerRatio: '0.6' }), at: '0.6', object: 'CircuitBreakerStrategy/cb', field: 'spec.triggerRatio', message: "must be a percent string such as '60%', not a number" },
  { title: 'ratio without %', yaml: CB({ triggerRatio: "'60'" }), at: "'60'", object: 'CircuitBreakerStrategy/cb', field: 'spec.triggerRatio', message: 'invalid percent' },
  { title: 'fractional percent', yaml: CB({ triggerRatio: "'60.5%'" }), at: "'60.5%'", object: 'CircuitBreakerStrategy/cb', field: 'spec.triggerRatio', message: 'invalid percent' },
  { title: 'duration with a space', yaml: CB({ statDuration: "'30 s'" }), at: "'30 s'", object: 'CircuitBreakerStrategy/cb', field: 'spec.statDuration', message: 'invalid duration' },
  { title: 'zero recoveryTimeout', yaml: CB({ recoveryTimeout: "'0s'" }), at: "'0s'", object: 'CircuitBreakerStrategy/cb', field: 'spec.recoveryTimeout', message: 'must not be zero' },
  { title: 'minRequestAmount 0', yaml: CB({ minRequestAmount: '0' }), at: { text: 'minRequestAmount: 0', offset: 18 }, object: 'CircuitBreakerStrategy/cb', field: 'spec.minRequestAmount', message: 'must be between 1 and' },
  { title: 'slow breaker without slowConditions', yaml: CB({ slowConditions: undefined }), at: 'spec:', object: 'CircuitBreakerStrategy/cb', field: 'spec.slowConditions', message: 'is required' },
  { title: 'composite maxAllowedRt', yaml: CB({ slowConditions: "\n  maxAllowedRt: '1m30s'" }), at: "'1m30s'", object: 'CircuitBreakerStrategy/cb', field: 'spec.slowConditions.maxAllowedRt', message: 'composite durations' },
  { title: 'statusCodes with a pattern', yaml: CB({ strategy: 'ErrorRequestRatio', slowConditions: undefined, errorConditions: "\n  statusCodes: ['5xx']" }), at: "'5xx'", object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions.statusCodes[0]', message: 'must be a status code (503) or an inclusive range' },
  { title: 'status code out of range', yaml: CB({ strategy: 'ErrorRequestRatio', slowConditions: undefined, errorConditions: '\n  statusCodes: [500, 600]' }), at: '600', object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions.statusCodes[1]', message: 'between 100 and 599' },
  { title: 'reversed status range', yaml: CB({ strategy: 'ErrorRequestRatio', slowConditions: undefined, errorConditions: '\n  statusCodes: ["504-502"]' }), at: '"504-502"', object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions.statusCodes[0]', message: 'is reversed' },
  { title: 'empty statusCodes', yaml: CB({ strategy: 'ErrorRequestRatio', slowConditions: undefined, errorConditions: '\n  statusCodes: []' }), at: 'statusCodes: []', object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions.statusCodes', message: 'must not be empty' },
  // HttpRequestFallbackAction
  { title: 'unknown behavior', yaml: fallbackAction('fb', 'behavior: Redirect\nbehaviorDesc:\n  responseStatusCode: 429'), at: 'Redirect', object: 'HttpRequestFallbackAction/fb', field: 'spec.behavior', message: 'is not one of ReturnProvidedResponse' },
  { title: 'missing behaviorDesc', yaml: fallbackAction('fb', 'behavior: ReturnProvidedResponse'), at: 'spec:', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc', message: 'is required' },
  { title: 'status 700', yaml: FB('responseStatusCode: 700'), at: '700', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseStatusCode', message: 'must be between 200 and 599, not 700' },
  { title: 'status 199', yaml: FB('responseStatusCode: 199'), at: '199', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseStatusCode', message: 'must be between 200 and 599' },
  { title: 'quoted status', yaml: FB('responseStatusCode: "429"'), at: '"429"', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseStatusCode', message: 'must be an integer' },
  { title: 'missing status', yaml: FB('responseContentBody: hi'), at: 'behaviorDesc:', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseStatusCode', message: 'is required' },
  { title: 'header name with a space', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: X Bad\n    value: v'), at: 'X Bad', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].key', message: 'is not a valid HTTP header name' },
  { title: 'header name with a colon', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: ":status"\n    value: v'), at: '":status"', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].key', message: 'is not a valid HTTP header name' },
  { title: 'empty header name', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: ""\n    value: v'), at: '""', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].key', message: 'is not a valid HTTP header name' },
  { title: 'header value with CRLF', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: X-A\n    value: "a\\r\\nSet-Cookie: x"'), at: '"a\\r', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].value', message: 'must not contain CR, LF or NUL' },
  { title: 'unknown gRPC status name', yaml: FB('responseStatusCode: 429\nresponseGrpcStatus: TOO_MANY'), at: 'TOO_MANY', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseGrpcStatus', message: "'TOO_MANY' is not a gRPC status: a code 0..16 or one of OK, CANCELLED," },
  { title: 'gRPC status 17', yaml: FB('responseStatusCode: 429\nresponseGrpcStatus: 17'), at: '17', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseGrpcStatus', message: 'must be between 0 and 16, not 17' },
  { title: 'lower-case gRPC status name', yaml: FB('responseStatusCode: 429\nresponseGrpcStatus: unavailable'), at: 'unavailable', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseGrpcStatus', message: "'unavailable' is not a gRPC status" },
  { title: 'header value with NUL', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: X-A\n    value: "a\\0b"'), at: '"a\\0b"', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].value', message: 'must not contain CR, LF or NUL' },
  { title: 'header without value', yaml: FB('responseStatusCode: 429\nresponseAdditionalHeaders:\n  - key: X-A'), at: 'key: X-A', object: 'HttpRequestFallbackAction/fb', field: 'spec.behaviorDesc.responseAdditionalHeaders[0].value', message: 'is required' },
  // FaultToleranceRule
  { title: 'missing targets', yaml: RULE('selector:\n  app: a\nstrategies:\n  - name: rl'), at: 'spec:', object: 'FaultToleranceRule/r', field: 'spec.targets', message: 'is required' },
  { title: 'empty targets', yaml: RULE('selector:\n  app: a\ntargets: []\nstrategies:\n  - name: rl'), at: 'targets: []', object: 'FaultToleranceRule/r', field: 'spec.targets', message: 'must not be empty' },
  { title: 'route name as target', yaml: rule('r', 'a', ['foo-route'], ['rl']), at: "'foo-route'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "expected a path '/…' or 'METHOD:/…'" },
  { title: 'lower-case method', yaml: rule('r', 'a', ['get:/foo'], ['rl']), at: "'get:/foo'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "must be upper-case ('GET:/foo')" },
  { title: 'query string in target', yaml: rule('r', 'a', ['/foo?x=1'], ['rl']), at: "'/foo?x=1'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: 'query string' },
  { title: '** in the middle', yaml: rule('r', 'a', ['/a/**/b'], ['rl']), at: "'/a/**/b'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "'**' is allowed only as the last segment" },
  { title: 'partial template segment', yaml: rule('r', 'a', ['/a/x{id}'], ['rl']), at: "'/a/x{id}'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: 'a template must be a whole segment' },
  { title: 'the stat tag end in target', yaml: rule('r', 'a', ['/a;.;b'], ['rl']), at: "'/a;.;b'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "'/a;.;b': ';.;' cannot be part of a resource: the filter's stat names carry the resource as a tag" },
  { title: 'the stat tag value start in target', yaml: rule('r', 'a', ['GET:/x=.=y'], ['rl']), at: "'GET:/x=.=y'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "'GET:/x=.=y': '=.=' cannot be part of a resource" },
  { title: 'space in target', yaml: rule('r', 'a', ['/a b'], ['rl']), at: "'/a b'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: 'printable ASCII without spaces' },
  { title: 'duplicate target', yaml: rule('r', 'a', ['/a', '/a'], ['rl']), at: { text: "'/a'", occurrence: 2 }, object: 'FaultToleranceRule/r', field: 'spec.targets[1].targetResourceName', message: 'duplicate target: already listed at spec.targets[0].targetResourceName' },
  { title: 'the same gRPC method in both spellings', yaml: rule('r', 'a', ['pkg.Svc/Call', '/pkg.Svc/Call'], ['rl']), at: "'/pkg.Svc/Call'", object: 'FaultToleranceRule/r', field: 'spec.targets[1].targetResourceName', message: 'duplicate target: already listed at spec.targets[0].targetResourceName' },
  { title: 'a gRPC name with a third part', yaml: rule('r', 'a', ['pkg.Svc/Call/x'], ['rl']), at: "'pkg.Svc/Call/x'", object: 'FaultToleranceRule/r', field: 'spec.targets[0].targetResourceName', message: "or a gRPC method 'package.Service/Method'" },
  { title: 'missing strategies', yaml: RULE("selector:\n  app: a\ntargets:\n  - targetResourceName: '/a'"), at: 'spec:', object: 'FaultToleranceRule/r', field: 'spec.strategies', message: 'is required' },
  { title: 'unsupported strategy kind', yaml: rule('r', 'a', ['/a'], ['AdaptiveOverloadProtectionStrategy/x']), at: 'AdaptiveOverloadProtectionStrategy', object: 'FaultToleranceRule/r', field: 'spec.strategies[0].kind', message: "'AdaptiveOverloadProtectionStrategy' is not one of RateLimitStrategy" },
  { title: 'strategy reference without name', yaml: RULE("selector:\n  app: a\ntargets:\n  - targetResourceName: '/a'\nstrategies:\n  - kind: RateLimitStrategy"), at: 'kind: RateLimitStrategy', object: 'FaultToleranceRule/r', field: 'spec.strategies[0].name', message: 'is required' },
  { title: 'fallback reference of a wrong kind', yaml: RULE("selector:\n  app: a\ntargets:\n  - targetResourceName: '/a'\nstrategies:\n  - name: rl\nfallbackAction:\n  name: fb\n  kind: RateLimitStrategy"), at: 'RateLimitStrategy', object: 'FaultToleranceRule/r', field: 'spec.fallbackAction.kind', message: 'is not one of HttpRequestFallbackAction' },
  { title: 'rule without app', yaml: RULE("targets:\n  - targetResourceName: '/a'\nstrategies:\n  - name: rl"), at: 'spec:', object: 'FaultToleranceRule/r', field: 'spec.selector.app', message: 'the rule names no app' },
  { title: 'invalid app', yaml: RULE("selector:\n  app: 'my app'\ntargets:\n  - targetResourceName: '/a'\nstrategies:\n  - name: rl"), at: "'my app'", object: 'FaultToleranceRule/r', field: 'spec.selector.app', message: 'is not a valid label value' },
  // Objects
  { title: 'missing metadata.name', yaml: 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ThrottlingStrategy\nmetadata:\n  namespace: x\nspec: {}\n', at: 'metadata:', object: 'ThrottlingStrategy/(unnamed)', field: 'metadata.name', message: 'is required' },
  { title: 'invalid object name', yaml: rateLimit('Rate_Limit'), at: 'Rate_Limit', object: 'RateLimitStrategy/Rate_Limit', field: 'metadata.name', message: 'is not a valid Kubernetes name' },
  { title: 'invalid namespace', yaml: rateLimit('rl', undefined, { namespace: 'Prod' }), at: 'Prod', object: 'RateLimitStrategy/rl', field: 'metadata.namespace', message: 'is not a valid Kubernetes name' },
  { title: 'missing spec', yaml: 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ThrottlingStrategy\nmetadata:\n  name: th\n', at: 'apiVersion', object: 'ThrottlingStrategy/th', field: 'spec', message: 'is required' },
  { title: 'spec is a list', yaml: 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ThrottlingStrategy\nmetadata:\n  name: th\nspec:\n  - a\n', at: 'spec:', object: 'ThrottlingStrategy/th', field: 'spec', message: 'must be a mapping, not a list' },
  { title: 'missing apiVersion', yaml: 'kind: ThrottlingStrategy\nmetadata:\n  name: th\nspec: {}\n', at: 'kind', object: 'ThrottlingStrategy/th', field: 'apiVersion', message: 'is required' },
];

describe('validation errors', () => {
  it.each(errorCases)('$title', async (c) => {
    const result = await translateInline(c.yaml);
    const { line, col } = locate(c.yaml, c.at);
    const match = result.errors.find((d) => d.line === line && d.col === col && d.object === c.object && d.field === c.field);
    expect(match, `no error at ${line}:${col} ${c.object} ${c.field}; got:\n${result.errorLines.join('\n')}`).toBeDefined();
    if (typeof c.message === 'string') expect(match!.message).toContain(c.message);
    else expect(match!.message).toMatch(c.message);
    expect(match!.file).toBe(result.paths['rules.yaml']);
    expect(result.config).toBeUndefined();
  });
});

describe('document-level errors', () => {
  it('reports invalid YAML where the unclosed flow collection opens', async () => {
    const yaml = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ThrottlingStrategy\nmetadata:\n  name: th\nspec:\n  queueTimeout: [1, 2\n';
    const result = await translateInline(yaml);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors as [Diagnostic];
    expect(error.message).toMatch(/^invalid YAML: .*\(the parser gave up at 7:1\)$/);
    expect([error.file, error.line, error.col]).toEqual([result.paths['rules.yaml'], 6, 17]);
    expect(error.object).toBe('ThrottlingStrategy/th');
  });

  it('reports a duplicate key as invalid YAML', async () => {
    const yaml = throttling('th', "minIntervalOfRequests: '20ms'\nqueueTimeout: '1s'\nqueueTimeout: '2s'");
    const result = await translateInline(yaml);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ line: positionOf(yaml, 'queueTimeout', 2).line, message: expect.stringMatching(/unique/) });
  });

  it('rejects a document that is not a mapping', async () => {
    const result = await translateInline('- a\n- b\n');
    expect(result.errorLines).toEqual([`${result.paths['rules.yaml']}:1:1: a document must be a Kubernetes object (a mapping), not a list`]);
  });

  it('reports a duplicate object where the second one is defined', async () => {
    const yaml = [rateLimit('rl'), rateLimit('rl')].join('---\n');
    const result = await translateInline(yaml);
    const { line, col } = positionOf(yaml, 'rl', 2);
    expect(result.errorLines).toEqual([
      `${result.paths['rules.yaml']}:${line}:${col}: RateLimitStrategy/rl: metadata.name: duplicate RateLimitStrategy rl in namespace default: already defined at ${result.paths['rules.yaml']}:4:9`,
    ]);
  });

  it('does not judge duplicates among skipped kinds', async () => {
    const router = 'apiVersion: traffic.opensergo.io/v1alpha1\nkind: VirtualWorkload\nmetadata:\n  name: vw\nspec: {}\n';
    const result = await translateInline({ 'a.yaml': router, 'b.yaml': router });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toHaveLength(2);
  });

  it('collects every error instead of stopping at the first', async () => {
    const yaml = [
      RL('metricType: Qps\nlimitMode: Shared\nthreshold: -1\nstatDurationSeconds: 0'),
      FB('responseStatusCode: 700'),
    ].join('---\n');
    const result = await translateInline(yaml);
    expect(result.errors.map((d) => d.field)).toEqual([
      'spec.metricType',
      'spec.limitMode',
      'spec.threshold',
      'spec.statDurationSeconds',
      'spec.behaviorDesc.responseStatusCode',
    ]);
  });

  it('formats an error as file:line:col: Kind/name: field: message', async () => {
    const yaml = RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: -1\nstatDurationSeconds: 1');
    const result = await translateInline(yaml);
    expect(result.errorLines).toEqual([
      `${result.paths['rules.yaml']}:8:14: RateLimitStrategy/rl: spec.threshold: must be between 0 and 2147483647, not -1`,
    ]);
    expect(formatDiagnostic({ ...result.errors[0]!, severity: 'warning' })).toBe(
      `${result.paths['rules.yaml']}:8:14: warning: RateLimitStrategy/rl: spec.threshold: must be between 0 and 2147483647, not -1`,
    );
  });
});

interface WarningCase {
  title: string;
  yaml: string;
  at: Marker;
  object: string;
  field: string;
  message: string;
}

const warningCases: WarningCase[] = [
  { title: 'unknown field', yaml: RL('metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 1\nburst: 3'), at: 'burst', object: 'RateLimitStrategy/rl', field: 'spec.burst', message: 'unknown field, ignored' },
  { title: 'unsupported fault-tolerance kind', yaml: objectDoc('AdaptiveOverloadProtectionStrategy', 'ao', "metricType: 'CpuPercentage'"), at: 'AdaptiveOverloadProtectionStrategy', object: 'AdaptiveOverloadProtectionStrategy/ao', field: 'kind', message: 'AdaptiveOverloadProtectionStrategy is not supported by sergo-wasm; skipped' },
  { title: 'other OpenSergo kind', yaml: 'apiVersion: traffic.opensergo.io/v1alpha1\nkind: VirtualWorkload\nmetadata:\n  name: vw\nspec: {}\n', at: 'VirtualWorkload', object: 'VirtualWorkload/vw', field: 'kind', message: 'is not a fault-tolerance object' },
  { title: 'not OpenSergo at all', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {}\n', at: 'v1', object: 'ConfigMap/cm', field: 'apiVersion', message: 'not an OpenSergo object (apiVersion v1); skipped' },
  { title: 'selector and label apps differ', yaml: objectDoc('FaultToleranceRule', 'r', "selector:\n  app: a\ntargets:\n  - targetResourceName: '/a'\nstrategies:\n  - name: rl", { app: 'b' }) + '---\n' + rateLimit('rl'), at: { text: 'app: a', offset: 5 }, object: 'FaultToleranceRule/r', field: 'spec.selector.app', message: "differs from metadata.labels.app 'b'" },
  { title: 'conditions of the other breaker mode', yaml: CB({ errorConditions: '\n  statusCodes: [500]' }), at: 'errorConditions', object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions', message: 'ignored: strategy is SlowRequestRatio' },
  { title: 'undefined error representation', yaml: CB({ strategy: 'ErrorRequestRatio', slowConditions: undefined, errorConditions: '\n  representation: exception' }), at: 'exception', object: 'CircuitBreakerStrategy/cb', field: 'spec.errorConditions.representation', message: 'has no defined meaning' },
  { title: 'unreferenced strategy', yaml: throttling('th'), at: 'th', object: 'ThrottlingStrategy/th', field: 'metadata.name', message: 'not referenced by any FaultToleranceRule' },
];

describe('warnings', () => {
  it.each(warningCases)('$title', async (c) => {
    const result = await translateInline(c.yaml);
    const { line, col } = locate(c.yaml, c.at);
    const match = result.warnings.find((d) => d.line === line && d.col === col && d.object === c.object && d.field === c.field);
    expect(match, `no warning at ${line}:${col} ${c.object} ${c.field}; got:\n${result.warningLines.join('\n')}`).toBeDefined();
    expect(match!.message).toContain(c.message);
    expect(result.errors).toEqual([]);
    expect(result.config).toBeDefined();
  });
});
