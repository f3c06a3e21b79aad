// Prometheus metrics of one service instance (its own registry, so several instances can live in
// one process: tests, the embedded sidecar).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RedisFailureKind } from './counter.ts';

export type Transport = 'grpc' | 'http';
/** OK / OVER_LIMIT: decisions; ERROR: no decision (Redis failed); INVALID: malformed request. */
export type Outcome = 'OK' | 'OVER_LIMIT' | 'ERROR' | 'INVALID';

export interface RlsMetrics {
  registry: Registry;
  requests: Counter<'transport' | 'code'>;
  redisErrors: Counter<'kind'>;
  duration: Histogram<'transport'>;
  redisUp: Gauge;
}

export function createMetrics(): RlsMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'sergo_rls_requests_total',
    help: 'ShouldRateLimit calls by transport and outcome (OK, OVER_LIMIT, ERROR = Redis failed, INVALID = bad request)',
    labelNames: ['transport', 'code'] as const,
    registers: [registry],
  });
  const redisErrors = new Counter({
    name: 'sergo_rls_redis_errors_total',
    help: 'Decisions and health checks that Redis failed to answer, by kind (timeout, unavailable, error)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sergo_rls_decision_duration_seconds',
    help: 'Time to answer a ShouldRateLimit call (decoding, Redis round trip, encoding)',
    labelNames: ['transport'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const redisUp = new Gauge({
    name: 'sergo_rls_redis_up',
    help: '1 while the Redis connection is ready, 0 otherwise',
    registers: [registry],
  });
  // Every series exists from the start, so dashboards and alerts see zeros rather than gaps.
  for (const transport of ['grpc', 'http'] as const) {
    for (const code of ['OK', 'OVER_LIMIT', 'ERROR', 'INVALID'] as const) requests.inc({ transport, code }, 0);
    duration.zero({ transport });
  }
  for (const kind of ['timeout', 'unavailable', 'error'] satisfies RedisFailureKind[]) redisErrors.inc({ kind }, 0);
  redisUp.set(0);
  return { registry, requests, redisErrors, duration, redisUp };
}
