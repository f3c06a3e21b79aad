// The kinds of `fault-tolerance.opensergo.io/v1alpha1` that sergo-wasm handles, and their readers.
import type { StrategyKind, StrategySpec } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import type { Reporter } from '../reporter.ts';
import { readCircuitBreakerStrategy } from './circuit-breaker-strategy.ts';
import { readConcurrencyLimitStrategy } from './concurrency-limit-strategy.ts';
import { readRateLimitStrategy } from './rate-limit-strategy.ts';
import { readThrottlingStrategy } from './throttling-strategy.ts';

export const FAULT_TOLERANCE_GROUP = 'fault-tolerance.opensergo.io';
export const FAULT_TOLERANCE_API_VERSION = `${FAULT_TOLERANCE_GROUP}/v1alpha1`;
export const RULE_KIND = 'FaultToleranceRule';
export { FALLBACK_KIND } from './fault-tolerance-rule.ts';

export const STRATEGY_READERS: Record<StrategyKind, (spec: Cursor, r: Reporter) => StrategySpec | undefined> = {
  RateLimitStrategy: readRateLimitStrategy,
  ThrottlingStrategy: readThrottlingStrategy,
  ConcurrencyLimitStrategy: readConcurrencyLimitStrategy,
  CircuitBreakerStrategy: readCircuitBreakerStrategy,
};

export function isStrategyKind(kind: string): kind is StrategyKind {
  return Object.hasOwn(STRATEGY_READERS, kind);
}
