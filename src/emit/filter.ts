// IR → the filter configuration, version 1 (docs/filter-config.md, schema/filter-config.v1.schema.json).
// Output is deterministic: rules in IR order, keys in a fixed order, 2-space indentation, final newline.
import type { Fallback, Rule, StrategySpec } from '../ir/model.ts';

export const FILTER_CONFIG_VERSION = 1;

export type FilterStrategy =
  | { kind: 'RateLimit'; threshold: number; windowMs: number }
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
}

export interface FilterRule {
  id: string;
  resource: string;
  strategy: FilterStrategy;
  fallback?: FilterFallback;
}

export interface FilterConfig {
  version: typeof FILTER_CONFIG_VERSION;
  rules: FilterRule[];
}

export function emitFilterConfig(rules: readonly Rule[]): FilterConfig {
  return { version: FILTER_CONFIG_VERSION, rules: rules.map(emitRule) };
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
      return { kind: 'RateLimit', threshold: s.threshold, windowMs: s.windowMs };
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
  return out;
}
