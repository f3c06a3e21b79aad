// IR → the filter configuration, version 1 (docs/filter-config.md, schema/filter-config.v1.schema.json).
// Output is deterministic: rules in IR order, keys in a fixed order, 2-space indentation, final newline.
import { usesRateLimitService } from '../ir/deployment.ts';
import type { Deployment, Fallback, FilterOptions, RateLimitService as Service, Rule, StrategySpec } from '../ir/model.ts';
import { emitLanes, type FilterLanes } from './filter-lanes.ts';

export const FILTER_CONFIG_VERSION = 1;

export type FilterStrategy =
  | { kind: 'RateLimit'; threshold: number; windowMs: number }
  | { kind: 'RateLimit'; mode: 'Global'; threshold: number; windowMs: number; failOpen: boolean; batch: number }
  | { kind: 'Throttling'; intervalMs: number; queueTimeoutMs: number }
  | { kind: 'ConcurrencyLimit'; maxConcurrency: number }
  | {
      kind: 'CircuitBreaker';
      mode: 'SlowRequestRatio' | 'ErrorRequestRatio';
      triggerRatio: number;
      statDurationMs: number;
      recoveryTimeoutMs: number;
      minRequestAmount: number;
      maxAllowedRtMs?: number;
      errorStatus?: Array<[number, number]>;
    };

export interface FilterFallback {
  status: number;
  body?: string;
  headers?: Array<[string, string]>;
  /** Absent: RESOURCE_EXHAUSTED (8) for limits, UNAVAILABLE (14) for a breaker (the filter decides). */
  grpcStatus?: number;
}

export interface FilterRule {
  id: string;
  resource: string;
  strategy: FilterStrategy;
  fallback?: FilterFallback;
}

/**
 * Where Global rate limits are counted: an Envoy cluster and the HTTP/JSON request line for it. The
 * emitter writes every field; a configuration made elsewhere may leave out all but `cluster` (the
 * filter defaults them as rateLimitService() in src/ir/deployment.ts does).
 */
export interface RateLimitService {
  cluster: string;
  authority?: string;
  path?: string;
  domain?: string;
  timeoutMs?: number;
}

export interface FilterConfig {
  version: typeof FILTER_CONFIG_VERSION;
  /** Present when some option is given (the IR's FilterOptions, written as they are). */
  options?: FilterOptions;
  /** Present exactly when some rule has `mode: Global`. */
  rateLimitService?: RateLimitService;
  rules: FilterRule[];
  /** Present when the deployment's namespace has lanes (docs/filter-config.md, "Lanes"). */
  lanes?: FilterLanes;
}

/** The deployment's configuration: `options` when some is given, `rateLimitService` when some rule is Global. */
export function emitFilterConfig(deployment: Deployment): FilterConfig {
  const options = emitOptions(deployment.options);
  return {
    version: FILTER_CONFIG_VERSION,
    ...(options === undefined ? {} : { options }),
    ...(usesRateLimitService(deployment) ? { rateLimitService: emitService(deployment.rateLimitService) } : {}),
    rules: deployment.rules.map(emitRule),
    ...(deployment.lanes === undefined ? {} : { lanes: emitLanes(deployment.lanes, deployment.app) }),
  };
}

/** The configuration as written to stdout or `-o FILE`. */
export function renderFilterConfig(config: FilterConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

function emitRule(rule: Rule): FilterRule {
  const out: FilterRule = { id: rule.id, resource: rule.resource, strategy: emitStrategy(rule.strategy.spec) };
  if (rule.fallback !== undefined) out.fallback = emitFallback(rule.fallback);
  return out;
}

// Each case lists its keys explicitly so that the JSON key order never depends on how the IR was built.
function emitStrategy(s: StrategySpec): FilterStrategy {
  switch (s.kind) {
    case 'RateLimit':
      return s.global === undefined
        ? { kind: 'RateLimit', threshold: s.threshold, windowMs: s.windowMs }
        : { kind: 'RateLimit', mode: 'Global', threshold: s.threshold, windowMs: s.windowMs, failOpen: s.global.failOpen, batch: s.global.batch };
    case 'Throttling':
      return { kind: 'Throttling', intervalMs: s.intervalMs, queueTimeoutMs: s.queueTimeoutMs };
    case 'ConcurrencyLimit':
      return { kind: 'ConcurrencyLimit', maxConcurrency: s.maxConcurrency };
    case 'CircuitBreaker': {
      const common = {
        kind: 'CircuitBreaker',
        mode: s.mode,
        triggerRatio: s.triggerRatio,
        statDurationMs: s.statDurationMs,
        recoveryTimeoutMs: s.recoveryTimeoutMs,
        minRequestAmount: s.minRequestAmount,
      } as const;
      return s.mode === 'SlowRequestRatio'
        ? { ...common, maxAllowedRtMs: s.maxAllowedRtMs }
        : { ...common, errorStatus: s.errorStatus.map(([from, to]) => [from, to]) };
    }
  }
}

function emitFallback(f: Fallback): FilterFallback {
  const out: FilterFallback = { status: f.status };
  if (f.body !== undefined) out.body = f.body;
  if (f.headers.length > 0) out.headers = f.headers.map(([name, value]) => [name, value]);
  if (f.grpcStatus !== undefined) out.grpcStatus = f.grpcStatus;
  return out;
}

/** The given options in a fixed key order; undefined when none is given. */
function emitOptions(o: FilterOptions): FilterOptions | undefined {
  const out: FilterOptions = {};
  if (o.maxQueuedPerVm !== undefined) out.maxQueuedPerVm = o.maxQueuedPerVm;
  if (o.casRetries !== undefined) out.casRetries = o.casRetries;
  if (o.onCasExhausted !== undefined) out.onCasExhausted = o.onCasExhausted;
  if (o.ruleIdHeader !== undefined) out.ruleIdHeader = o.ruleIdHeader;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The service as the filter reads it (the endpoint is for bootstraps, not the filter). */
function emitService(s: Service): RateLimitService {
  return { cluster: s.cluster, authority: s.authority, path: s.path, domain: s.domain, timeoutMs: s.timeoutMs };
}
