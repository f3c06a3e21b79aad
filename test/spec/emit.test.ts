// IR → filter configuration: the exact JSON, fan-out order, identities, defaults, determinism.
import { describe, expect, it } from 'vitest';
import { renderFilterConfig } from '../../src/emit/filter.ts';
import { concurrency, fallbackAction, join, objectDoc, rateLimit, rule, throttling } from '../support/documents.ts';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';

const slowBreaker = objectDoc(
  'CircuitBreakerStrategy',
  'slow',
  "strategy: SlowRequestRatio\ntriggerRatio: '60%'\nstatDuration: '30s'\nrecoveryTimeout: '5s'\nminRequestAmount: 5\nslowConditions:\n  maxAllowedRt: '500ms'",
);
const errorBreaker = (conditions = '') =>
  objectDoc(
    'CircuitBreakerStrategy',
    'errors',
    `strategy: ErrorRequestRatio\ntriggerRatio: '50%'\nstatDuration: '1min'\nrecoveryTimeout: '10s'\nminRequestAmount: 20${conditions}`,
  );

describe('filter configuration', () => {
  it('emits exactly the documented JSON', async () => {
    const yaml = join(rateLimit('rate-limit-foo'), fallbackAction('fallback-foo'), rule('my-rule', 'foo-app', ['GET:/foo'], ['rate-limit-foo'], { fallback: 'fallback-foo' }));
    const result = await translateInline(yaml);
    expect(renderFilterConfig(result.config!)).toBe(`{
  "version": 1,
  "rules": [
    {
      "id": "default/foo-app/my-rule/RateLimitStrategy/rate-limit-foo@GET:/foo",
      "resource": "GET:/foo",
      "strategy": {
        "kind": "RateLimit",
        "threshold": 10,
        "windowMs": 1000
      },
      "fallback": {
        "status": 429,
        "body": "Blocked",
        "headers": [
          [
            "x-limit",
            "foo"
          ]
        ]
      }
    }
  ]
}
`);
  });

  it('fans out every target × every strategy, targets first, in source order', async () => {
    const yaml = join(rateLimit('rl'), throttling('th'), rule('r', 'app-a', ['/b', '/a'], ['th', 'rl']));
    const result = await translateInline(yaml);
    expect(result.config?.rules.map((r) => r.id)).toEqual([
      'default/app-a/r/ThrottlingStrategy/th@/b',
      'default/app-a/r/RateLimitStrategy/rl@/b',
      'default/app-a/r/ThrottlingStrategy/th@/a',
      'default/app-a/r/RateLimitStrategy/rl@/a',
    ]);
  });

  it('normalizes every strategy kind to ms, ratios and ints', async () => {
    const yaml = join(
      rateLimit('legacy', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 7\nstatDuration: "2min"'),
      throttling('th', "minIntervalOfRequests: '0ms'\nqueueTimeout: '1s'"),
      concurrency('cl', 'maxConcurrency: 0\nlimitMode: Local'),
      slowBreaker,
      errorBreaker(),
      rule('r', 'app-a', ['/a'], ['legacy', 'th', 'cl', 'slow', 'errors']),
    );
    const result = await translateInline(yaml);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules.map((r) => r.strategy)).toEqual([
      { kind: 'RateLimit', threshold: 7, windowMs: 120_000 },
      { kind: 'Throttling', intervalMs: 0, queueTimeoutMs: 1000 },
      { kind: 'ConcurrencyLimit', maxConcurrency: 0 },
      { kind: 'CircuitBreaker', mode: 'SlowRequestRatio', triggerRatio: 0.6, statDurationMs: 30_000, recoveryTimeoutMs: 5000, minRequestAmount: 5, maxAllowedRtMs: 500 },
      { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 60_000, recoveryTimeoutMs: 10_000, minRequestAmount: 20, errorStatus: [[500, 599]] },
    ]);
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('emits errorConditions.statusCodes as merged errorStatus ranges', async () => {
    const yaml = join(errorBreaker('\nerrorConditions:\n  statusCodes: [503, "500-502", 429, "520-599"]'), rule('r', 'app-a', ['/a'], ['errors']));
    const result = await translateInline(yaml);
    expect(result.config?.rules[0]?.strategy).toMatchObject({ errorStatus: [[429, 429], [500, 503], [520, 599]] });
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('turns header values and bodies that YAML types as numbers into the text written', async () => {
    const fb = fallbackAction(
      'fb',
      'behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 503\n  responseContentBody: 42\n  responseAdditionalHeaders:\n    - key: Retry-After\n      value: 012\n    - key: X-Ratio\n      value: 1.50\n    - key: X-Flag\n      value: true\n    - key: X-Empty\n      value: ""',
    );
    const result = await translateInline(join(rateLimit('rl'), fb, rule('r', 'app-a', ['/a'], ['rl'], { fallback: 'fb' })));
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]?.fallback).toEqual({
      status: 503,
      body: '42',
      headers: [
        ['retry-after', '012'],
        ['x-ratio', '1.50'],
        ['x-flag', 'true'],
        ['x-empty', ''],
      ],
    });
  });

  it('leaves out the fallback when the rule has none, and empty headers', async () => {
    const bare = fallbackAction('fb', 'behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 429');
    const result = await translateInline(join(rateLimit('rl'), bare, rule('with', 'app-a', ['/a'], ['rl'], { fallback: 'fb' }), rule('without', 'app-a', ['/b'], ['rl'])));
    expect(result.config?.rules.map((r) => r.fallback)).toEqual([{ status: 429 }, undefined]);
    expect(Object.keys(result.config!.rules[1]!)).toEqual(['id', 'resource', 'strategy']);
  });

  it('is deterministic: same input, same bytes', async () => {
    const yaml = join(rateLimit('rl'), throttling('th'), slowBreaker, rule('r', 'app-a', ['/a', 'GET:/b/{id}'], ['rl', 'th', 'slow']));
    const first = renderFilterConfig((await translateInline(yaml)).config!);
    const second = renderFilterConfig((await translateInline(yaml)).config!);
    expect(second).toBe(first);
    expect(first.endsWith('}\n')).toBe(true);
  });

  it('accepts JSON input (JSON is YAML) with positions', async () => {
    const json = JSON.stringify(
      { apiVersion: 'fault-tolerance.opensergo.io/v1alpha1', kind: 'ConcurrencyLimitStrategy', metadata: { name: 'cl' }, spec: { maxConcurrency: -1, limitMode: 'Local' } },
      null,
      2,
    );
    const result = await translateInline({ 'cl.json': json });
    expect(result.errorLines).toEqual([`${result.paths['cl.json']}:8:23: ConcurrencyLimitStrategy/cl: spec.maxConcurrency: must be between 0 and 2147483647, not -1`]);
  });

  it('reads the items of a kubectl List', async () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: fault-tolerance.opensergo.io/v1alpha1
    kind: RateLimitStrategy
    metadata: { name: rl }
    spec: { metricType: RequestAmount, limitMode: Local, threshold: 3, statDurationSeconds: 2 }
  - apiVersion: fault-tolerance.opensergo.io/v1alpha1
    kind: FaultToleranceRule
    metadata: { name: r, labels: { app: app-a } }
    spec: { targets: [{ targetResourceName: /a }], strategies: [{ name: rl }] }
`;
    const result = await translateInline(list);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]).toMatchObject({ id: 'default/app-a/r/RateLimitStrategy/rl@/a', strategy: { threshold: 3, windowMs: 2000 } });
  });
});
