// What the control plane's CRD → proto conversion loses, and what sergo makes of each payload:
// recovered exactly (statDurationSeconds, metricType, percent), or said once per object (limitMode,
// millisecond fields, the fallback action, strategies no rule can name), or refused (values no CR
// can have). The payloads are encoded with the same protos the control plane's messages decode with.
import { describe, expect, it } from 'vitest';
import { decodePayloads } from '../../src/opensergo/decode.ts';
import { buildApp } from '../../src/opensergo/to-ir.ts';
import { rebuildObjects } from '../../src/opensergo/to-objects.ts';
import type { BareKind } from '../../src/opensergo/kinds.ts';
import { payload } from './peer.ts';

const OWNER = { namespace: 'shop', app: 'cart' };

function rebuilt(kind: BareKind, fields: Record<string, unknown>, check = true) {
  const decoded = decodePayloads(kind, [payload(kind, fields, check)]);
  if (!decoded.ok) throw new Error(decoded.reason);
  return rebuildObjects(kind, decoded.payloads, OWNER);
}

describe('OpenSergo payloads → OpenSergo objects', () => {
  it('RateLimitStrategy as the control plane sends it: statDurationSeconds and metricType recovered, limitMode lost (said, enforced as Local)', () => {
    const r = rebuilt('RateLimitStrategy', { name: 'rl', metric_type: 0, limit_mode: 0, threshold: 10, stat_duration: 2, stat_duration_time_unit: 0 });
    expect(r.errors).toEqual([]);
    expect(r.objects).toEqual([{
      apiVersion: 'fault-tolerance.opensergo.io/v1alpha1', kind: 'RateLimitStrategy',
      metadata: { name: 'rl', namespace: 'shop', labels: { app: 'cart' } },
      spec: { metricType: 'RequestAmount', limitMode: 'Local', threshold: 10, statDurationSeconds: 2 },
    }]);
    expect(r.losses).toEqual([
      'RateLimitStrategy/rl: limitMode arrives as MODE_UNKNOWN (the control plane sends it for every RateLimitStrategy: it reads Local/Global as numbers): enforced as Local, each Envoy admitting the whole threshold; a Global CR is enforced per Envoy',
    ]);
  });

  it('RateLimitStrategy with its enums and unit set (a control plane that fills them): nothing lost', () => {
    const r = rebuilt('RateLimitStrategy', { name: 'rl', metric_type: 1, limit_mode: 2, threshold: 10, stat_duration: 500, stat_duration_time_unit: 1 });
    expect(r.objects[0]!.spec).toEqual({ metricType: 'RequestAmount', limitMode: 'Global', threshold: 10, statDuration: '500ms' });
    expect(r.losses).toEqual([]);
    expect(rebuilt('RateLimitStrategy', { name: 'rl', limit_mode: 1, threshold: 1, stat_duration: 2, stat_duration_time_unit: 3 }).objects[0]!.spec.statDuration).toBe('120000ms');
    expect(rebuilt('RateLimitStrategy', { name: 'rl', limit_mode: 7, threshold: 1, stat_duration: 1 }, false).errors).toEqual(['RateLimitStrategy/rl: limit_mode 7 is not a LimitMode']);
  });

  it('ThrottlingStrategy: a millisecond value that a mis-scaled unit could have made is said; one that cannot is not; -1 is refused', () => {
    const r = rebuilt('ThrottlingStrategy', { name: 'pace', min_interval_millis_of_requests: 20, queue_timeout_millis: 25 });
    expect(r.objects[0]!.spec).toEqual({ minIntervalOfRequests: '20ms', queueTimeout: '25ms' });
    expect(r.losses).toEqual([
      "ThrottlingStrategy/pace: minIntervalOfRequests arrives as 20 ms, and the control plane converts only 'ms' durations right ('5s' arrives as 50, '5m'/'5min' as 3000, '5h' as 180000): if the CR says '2s', that is what it became; enforced as 20 ms (write this duration in ms in the CR)",
    ]);
    expect(rebuilt('ThrottlingStrategy', { name: 'pace', min_interval_millis_of_requests: 3, queue_timeout_millis: -1 }).errors).toEqual([
      "ThrottlingStrategy/pace: queueTimeout is -1: the control plane could not convert the CR's duration (it fails on 'd' and on a missing field)",
    ]);
  });

  it('CircuitBreakerStrategy: strategy and percent recovered; durations said; an error-ratio breaker ignores the -1 slow condition', () => {
    const slow = rebuilt('CircuitBreakerStrategy', {
      name: 'cb', strategy: 1, trigger_ratio: 0.6, stat_duration: 300, recovery_timeout: 7, min_request_amount: 5, slow_condition: { max_allowed_rt_millis: 500 },
    });
    expect(slow.errors).toEqual([]);
    expect(slow.objects[0]!.spec).toEqual({
      strategy: 'SlowRequestRatio', triggerRatio: '60%', statDuration: '300ms', recoveryTimeout: '7ms', minRequestAmount: 5, slowConditions: { maxAllowedRt: '500ms' },
    });
    expect(slow.losses.map((l) => l.slice(0, l.indexOf(' arrives')))).toEqual(['CircuitBreakerStrategy/cb: statDuration', 'CircuitBreakerStrategy/cb: slowConditions.maxAllowedRt']);
    const errors = rebuilt('CircuitBreakerStrategy', {
      name: 'cb', strategy: 2, trigger_ratio: 0.5, stat_duration: 1, stat_duration_time_unit: 2, recovery_timeout: 5, recovery_timeout_time_unit: 2, min_request_amount: 2, slow_condition: { max_allowed_rt_millis: -1 },
    });
    expect(errors.errors).toEqual([]);
    expect(errors.losses).toEqual([]);
    expect(errors.objects[0]!.spec).toEqual({ strategy: 'ErrorRequestRatio', triggerRatio: '50%', statDuration: '1000ms', recoveryTimeout: '5000ms', minRequestAmount: 2 });
    expect(rebuilt('CircuitBreakerStrategy', { name: 'cb', strategy: 0, trigger_ratio: 0.655 }).errors).toEqual([
      'CircuitBreakerStrategy/cb: strategy 0 is not SlowRequestRatio (1) or ErrorRequestRatio (2)',
      "CircuitBreakerStrategy/cb: trigger_ratio 0.655 is not a whole percent from 0 to 1 (the CRD's '0%'..'100%')",
    ]);
  });

  it('ConcurrencyLimitStrategy: limitMode exact; MODE_UNKNOWN enforced as Local (said); Global refused as for YAML', () => {
    const local = rebuilt('ConcurrencyLimitStrategy', { name: 'c', limit_mode: 1, max_concurrency: 4 });
    expect([local.objects[0]!.spec, local.losses]).toEqual([{ maxConcurrency: 4, limitMode: 'Local' }, []]);
    expect(rebuilt('ConcurrencyLimitStrategy', { name: 'c', limit_mode: 0, max_concurrency: 4 }).losses).toEqual([
      'ConcurrencyLimitStrategy/c: limitMode arrives as MODE_UNKNOWN: enforced as Local, each Envoy allowing the whole maxConcurrency; a Global CR is enforced per Envoy',
    ]);
    const objects = [
      ...rebuilt('ConcurrencyLimitStrategy', { name: 'c', limit_mode: 2, max_concurrency: 4 }).objects,
      ...rebuilt('FaultToleranceRule', { targets: [{ target_resource_name: '/x' }], strategies: [{ name: 'c', kind: 'ConcurrencyLimitStrategy' }] }).objects,
    ];
    const built = buildApp(OWNER, objects, {});
    expect(built.ok).toBe(false);
    expect(built.ok ? [] : built.errors).toEqual([expect.stringMatching(/^ConcurrencyLimitStrategy\/c: spec\.limitMode: /)]);
  });

  it('FaultToleranceRule: no name in the payload (one derived from its content, stable), the fallback action lost (said)', () => {
    const fields = { targets: [{ target_resource_name: 'GET:/cart' }], strategies: [{ name: 'rl', kind: 'RateLimitStrategy' }] };
    const a = rebuilt('FaultToleranceRule', fields);
    const b = rebuilt('FaultToleranceRule', fields);
    expect(a.objects[0]!.metadata.name).toMatch(/^opensergo-rule-[0-9a-f]{10}$/);
    expect(b.objects[0]!.metadata.name).toBe(a.objects[0]!.metadata.name);
    expect(rebuilt('FaultToleranceRule', { ...fields, targets: [{ target_resource_name: 'GET:/other' }] }).objects[0]!.metadata.name).not.toBe(a.objects[0]!.metadata.name);
    expect(a.objects[0]!.spec).toEqual({ targets: [{ targetResourceName: 'GET:/cart' }], strategies: [{ name: 'rl', kind: 'RateLimitStrategy' }] });
    expect(a.losses).toEqual([`FaultToleranceRule/${a.objects[0]!.metadata.name}: no fallback action (the control plane's CRD has no fallbackAction field, so a CR's is dropped): blocked requests get sergo's default reply (429)`]);
    // Two CRs with the same content (different names in the cluster) arrive alike: enforced once, said.
    const twice = decodePayloads('FaultToleranceRule', [payload('FaultToleranceRule', fields), payload('FaultToleranceRule', fields)]);
    if (!twice.ok) throw new Error(twice.reason);
    const both = rebuildObjects('FaultToleranceRule', twice.payloads, OWNER);
    expect(both.objects).toHaveLength(1);
    expect(both.losses.at(-1)).toBe(`FaultToleranceRule/${a.objects[0]!.metadata.name}: 2 rules of the push include identical ones (the payload has no name to tell them apart): enforced once`);
    const named = rebuilt('FaultToleranceRule', { ...fields, action: { name: 'fb', kind: 'HttpRequestFallbackAction' } });
    expect(named.losses[0]).toMatch(/fallback action fb is named, but the control plane delivers no fallback actions/);
  });

  it('an app: the same IR as YAML input; a strategy no rule can name is said not to be enforced', () => {
    const objects = [
      ...rebuilt('RateLimitStrategy', { name: 'rl', threshold: 3, stat_duration: 1 }).objects,
      ...rebuilt('FaultToleranceRule', { targets: [{ target_resource_name: '/cart' }], strategies: [{ name: 'rl', kind: 'RateLimitStrategy' }] }).objects,
      ...rebuilt('ThrottlingStrategy', { name: 'pace', min_interval_millis_of_requests: 5, queue_timeout_millis: 5 }).objects,
    ];
    const built = buildApp(OWNER, objects, {});
    if (!built.ok) throw new Error(built.errors.join('\n'));
    expect(built.app.config.rules).toEqual([expect.objectContaining({
      resource: '/cart', strategy: { kind: 'RateLimit', threshold: 3, windowMs: 1000 },
      id: `shop/cart/${objects[1]!.metadata.name}/RateLimitStrategy/rl@/cart`,
    })]);
    expect(built.warnings).toEqual([
      "ThrottlingStrategy/pace: the control plane's FaultToleranceRule CRD lets strategies[].kind be RateLimitStrategy or ConcurrencyLimitStrategy only, so no rule it delivers can name this strategy",
      'ThrottlingStrategy/pace: metadata.name: not referenced by any FaultToleranceRule; nothing enforces it',
    ]);
  });
});
