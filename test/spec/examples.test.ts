// The upstream OpenSergo examples (test/fixtures/opensergo-examples, copied verbatim): the valid ones
// translate to schema-valid configurations; the ones flagged invalid upstream fail with positions.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.ts';
import { translateFiles } from '../../src/translate.ts';
import { example } from '../support/paths.ts';
import { schemaErrors } from '../support/schema.ts';
import { writeFiles } from '../support/workspace.ts';

function filesIn(dir: string): string[] {
  return readdirSync(example(dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}

const FAULT_TOLERANCE_FILES = [...filesIn('fault-tolerance'), ...filesIn('control-plane-samples'), ...filesIn('sentinel-demo')];

/** The examples that do not translate as they are, and why (see the tests below). */
const EXPECTED_TO_FAIL = new Set([
  'fault-tolerance/zh-adaptive-overload-protection-strategy.yaml', // invalid YAML upstream
  // The rule is in namespace prod, its strategy and fallback in the default one (see --namespace below).
  'fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml',
  'fault-tolerance/en-combined-rule-ratelimit-fallback.yaml',
]);

const POSITIONED = /^.+:\d+:\d+: /;

describe('fault-tolerance examples', () => {
  it('finds every example directory populated', () => {
    expect(FAULT_TOLERANCE_FILES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(FAULT_TOLERANCE_FILES)('%s', async (file) => {
    const result = await translateFiles([example(file)]);
    if (EXPECTED_TO_FAIL.has(file)) {
      expect(result.config).toBeUndefined();
      expect(result.errors.length).toBeGreaterThan(0);
      for (const line of result.errors.map(formatDiagnostic)) expect(line).toMatch(POSITIONED);
    } else {
      expect(result.errors.map(formatDiagnostic)).toEqual([]);
      expect(schemaErrors(result.config)).toEqual([]);
    }
  });

  it('control-plane sample: two rate-limit rules for foo-app', async () => {
    const result = await translateFiles([example('control-plane-samples/opensergo_new_sample.yaml')]);
    expect(result.app).toBe('foo-app');
    expect(result.config).toEqual({
      version: 1,
      rules: [
        { id: 'default/foo-app/my-opensergo-rule-1/RateLimitStrategy/rate-limit-foo@GET:/fooa', resource: 'GET:/fooa', strategy: { kind: 'RateLimit', threshold: 3, windowMs: 5000 } },
        { id: 'default/foo-app/my-opensergo-rule-2/RateLimitStrategy/rate-limit-foo@GET:/fooc', resource: 'GET:/fooc', strategy: { kind: 'RateLimit', threshold: 3, windowMs: 5000 } },
      ],
    });
    // Three strategies in the sample are defined but bound by no rule.
    expect(result.warnings.map((d) => d.object)).toEqual([
      'ConcurrencyLimitStrategy/concurrency-limit-foo',
      'ThrottlingStrategy/throttling-foo',
      'CircuitBreakerStrategy/circuit-breaker-slow-foo',
    ]);
  });

  it('Sentinel demo: a route template resource', async () => {
    const result = await translateFiles([example('sentinel-demo/opensergo_cr_sample.yml')]);
    expect(result.config?.rules).toEqual([
      { id: 'default/foo-app/my-opensergo-rule-1/RateLimitStrategy/rate-limit-foo@GET:/foo/{id}', resource: 'GET:/foo/{id}', strategy: { kind: 'RateLimit', threshold: 2, windowMs: 1000 } },
    ]);
  });

  it('traffic-router sample: a TrafficRouter (test/traffic/examples.test.ts), no fault-tolerance rule', async () => {
    const file = example('control-plane-samples/opensergo_traffic_router_samples.yaml');
    const result = await translateFiles([file]);
    expect(result.errors).toEqual([]);
    expect(result.config).toEqual({ version: 1, rules: [] });
    expect(result.deployment?.traffic?.routers.map((r) => r.origin.name)).toEqual(['service-provider']);
  });

  it('zh-rate-limit-strategy.yaml: the Global strategy is valid; no rule binds it, so nothing is emitted', async () => {
    const file = example('fault-tolerance/zh-rate-limit-strategy.yaml');
    const result = await translateFiles([file]);
    expect(result.errors).toEqual([]);
    expect(result.config).toEqual({ version: 1, rules: [] });
    expect(result.warnings.map(formatDiagnostic)).toEqual([
      `${file}:4:9: warning: RateLimitStrategy/rate-limit-foo: metadata.name: not referenced by any FaultToleranceRule; nothing enforces it`,
    ]);
  });

  it.each(['zh-combined-rule-ratelimit-fallback.yaml', 'en-combined-rule-ratelimit-fallback.yaml'])(
    '%s (the flagship example) translates with --namespace prod: a Global rate limit and the rate-limit service',
    async (name) => {
      const result = await translateFiles([example(`fault-tolerance/${name}`)], { namespace: 'prod' });
      expect(result.errors.map(formatDiagnostic)).toEqual([]);
      expect(result.warnings.map(formatDiagnostic)).toEqual([]);
      expect(result.config).toEqual({
        version: 1,
        rateLimitService: { cluster: 'sergo_rls', authority: 'sergo_rls', path: '/json', domain: 'sergo', timeoutMs: 20 },
        rules: [
          {
            id: 'prod/my-app/my-rule/RateLimitStrategy/rate-limit-foo@/foo',
            resource: '/foo',
            strategy: { kind: 'RateLimit', mode: 'Global', threshold: 10, windowMs: 1000, failOpen: false, batch: 1 },
            fallback: { status: 429, body: 'Blocked by Sentinel', headers: [['x-sentinel-limit', 'foo']] },
          },
        ],
      });
      expect(schemaErrors(result.config)).toEqual([]);
    },
  );

  it('combined examples: the rule is in namespace prod, its strategy and fallback in the default one', async () => {
    const file = example('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml');
    const result = await translateFiles([file]);
    expect(result.config).toBeUndefined();
    expect(result.errors.map((d) => `${d.line}:${d.col} ${d.field}`)).toEqual(['38:13 spec.strategies[0].name', '39:19 spec.fallbackAction']);
    expect(result.errors[0]?.message).toContain('found RateLimitStrategy rate-limit-foo in namespace default');
    const inProd = await translateFiles([file], { namespace: 'prod' });
    expect(inProd.errors).toEqual([]);
  });

  it('en combined example with Local instead: the same rule counted per proxy, no rate-limit service', async () => {
    const original = readFileSync(example('fault-tolerance/en-combined-rule-ratelimit-fallback.yaml'), 'utf8');
    const local = original.replace('limitMode: Global', 'limitMode: Local');
    expect(local).not.toBe(original);
    const paths = writeFiles({ 'en-local.yaml': local });
    const result = await translateFiles([paths['en-local.yaml']!], { namespace: 'prod', rateLimitService: { cluster: 'unused' } });
    expect(result.errors).toEqual([]);
    expect(result.config).toEqual({
      version: 1,
      rules: [
        {
          id: 'prod/my-app/my-rule/RateLimitStrategy/rate-limit-foo@/foo',
          resource: '/foo',
          strategy: { kind: 'RateLimit', threshold: 10, windowMs: 1000 },
          fallback: { status: 429, body: 'Blocked by Sentinel', headers: [['x-sentinel-limit', 'foo']] },
        },
      ],
    });
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('adaptive overload protection: invalid YAML upstream, reported where the unclosed quote opens', async () => {
    const file = example('fault-tolerance/zh-adaptive-overload-protection-strategy.yaml');
    const result = await translateFiles([file]);
    expect(result.errors.map(formatDiagnostic)).toEqual([
      `${file}:8:21: AdaptiveOverloadProtectionStrategy/system-overload-foo: invalid YAML: Missing closing 'quote (the parser gave up at 9:1)`,
    ]);
  });

  it.each([
    ['zh-throttling-strategy.yaml', 'ThrottlingStrategy/throttling-foo', { kind: 'Throttling', intervalMs: 20, queueTimeoutMs: 500 }],
    ['zh-concurrency-limit-strategy.yaml', 'ConcurrencyLimitStrategy/concurrency-limit-foo', { kind: 'ConcurrencyLimit', maxConcurrency: 8 }],
    [
      'zh-circuit-breaker-strategy.yaml',
      'CircuitBreakerStrategy/circuit-breaker-slow-foo',
      { kind: 'CircuitBreaker', mode: 'SlowRequestRatio', triggerRatio: 0.6, statDurationMs: 30_000, recoveryTimeoutMs: 5000, minRequestAmount: 5, maxAllowedRtMs: 500 },
    ],
  ])('%s: enforced once a rule binds it', async (name, ref, strategy) => {
    const [kind, strategyName] = ref.split('/') as [string, string];
    const bind = `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata:
  name: bind
spec:
  selector: { app: demo }
  targets: [{ targetResourceName: 'GET:/x' }]
  strategies: [{ name: ${strategyName}, kind: ${kind} }]
`;
    const paths = writeFiles({ 'bind.yaml': bind });
    const result = await translateFiles([example(`fault-tolerance/${name}`), paths['bind.yaml']!]);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules).toEqual([{ id: `default/demo/bind/${kind}/${strategyName}@GET:/x`, resource: 'GET:/x', strategy }]);
    expect(schemaErrors(result.config)).toEqual([]);
  });
});

describe('traffic, database and historic examples', () => {
  // traffic/traffic-router.yaml translates: test/traffic/examples.test.ts.
  const otherFiles = [...filesIn('traffic').filter((f) => f !== 'traffic/traffic-router.yaml'), ...filesIn('database'), ...readdirSync(example('historic')).flatMap((d) => filesIn(`historic/${d}`))];
  const INVALID_YAML = new Set([
    'traffic/traffic-lane.yaml',
    'database/spec-09-distributedtransaction.yaml',
    'historic/traffic-routing-draft-62f3ca7/05-routerrule-http-and-rpc.yaml',
  ]);

  it.each(otherFiles)('%s', async (file) => {
    const result = await translateFiles([example(file)]);
    if (INVALID_YAML.has(file)) {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const d of result.errors) expect(formatDiagnostic(d)).toMatch(/^.+:\d+:\d+: (.+: )?invalid YAML: /);
      return;
    }
    expect(result.errors.map(formatDiagnostic)).toEqual([]);
    expect(result.config).toEqual({ version: 1, rules: [] });
    expect(result.warnings.length).toBeGreaterThan(0);
    for (const d of result.warnings) expect(d.message).toMatch(/skipped$/);
  });
});
