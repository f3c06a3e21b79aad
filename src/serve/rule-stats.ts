// Per rule of the running configuration: the filter's counters (requests passed, blocked, queued)
// and, for a circuit breaker, its state, read from the filter's tagged stats.
import { BREAKER_STATES, metricName, RULE_METRICS, ruleIdOf, type BreakerState } from '../emit/metrics.ts';
import type { ProxyWasmHost } from '../host/index.ts';
import type { ServedConfig } from './rules.ts';
import { decodeStatName } from './stats.ts';

export interface RuleStats {
  id: string;
  resource: string;
  kind: string;
  passed: number;
  blocked: number;
  queued: number;
  /** breakers only */
  breakerState?: BreakerState;
}

export function ruleStats(config: ServedConfig, host: ProxyWasmHost): RuleStats[] {
  const byId = new Map<string, RuleStats>();
  for (const r of config.rules) {
    byId.set(r.id, { id: r.id, resource: r.resource, kind: r.strategy.kind, passed: 0, blocked: 0, queued: 0 });
  }
  for (const [name, s] of host.metrics()) {
    const d = decodeStatName(name);
    const id = ruleIdOf(new Map(d.labels));
    const r = id === undefined ? undefined : byId.get(id);
    if (!r) continue;
    const v = Number(s.value);
    if (d.name === metricName(RULE_METRICS.passed)) r.passed = v;
    else if (d.name === metricName(RULE_METRICS.blocked)) r.blocked = v;
    else if (d.name === metricName(RULE_METRICS.queued)) r.queued = v;
    else if (d.name === metricName(RULE_METRICS.breakerState)) r.breakerState = BREAKER_STATES[v] ?? 'closed';
  }
  for (const r of byId.values()) if (r.kind === 'CircuitBreaker' && r.breakerState === undefined) r.breakerState = 'closed';
  return [...byId.values()];
}
