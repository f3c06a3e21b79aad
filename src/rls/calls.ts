// One rate-limit call, whatever the transport: the decision on Redis, its metrics, and the in-flight
// count that shutdown waits on.
import { performance } from 'node:perf_hooks';
import { decide, RedisUnavailableError, type RedisClient } from './counter.ts';
import type { RlsLogger } from './log.ts';
import type { Outcome, RlsMetrics, Transport } from './metrics.ts';
import {
  InvalidRequestError,
  planRequest,
  type Budget,
  type DescriptorStatus,
  type RateLimitRequest,
  type RateLimitResponse,
} from './model.ts';

export type CallResult = { response: RateLimitResponse } | { error: unknown };

export interface Calls {
  /** The decision itself. Throws InvalidRequestError / RedisUnavailableError. */
  shouldRateLimit(request: RateLimitRequest): Promise<RateLimitResponse>;
  /** Runs one call with metrics and in-flight accounting; returns the response or the error. */
  serve(transport: Transport, decode: () => RateLimitRequest): Promise<CallResult>;
  /** Resolves when no call is in flight. */
  drained(): Promise<void>;
}

export interface CallOptions {
  client: RedisClient;
  domains: readonly string[] | '*';
  timeoutMs: number;
  metrics: RlsMetrics;
  log: RlsLogger;
}

export function createCalls(options: CallOptions): Calls {
  const { metrics, log } = options;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const shouldRateLimit = (request: RateLimitRequest) => decideRequest(options, request);

  async function serve(transport: Transport, decode: () => RateLimitRequest): Promise<CallResult> {
    inFlight++;
    const start = performance.now();
    let outcome: Outcome = 'ERROR';
    try {
      const response = await shouldRateLimit(decode());
      outcome = response.overallCode;
      return { response };
    } catch (error) {
      if (error instanceof InvalidRequestError) outcome = 'INVALID';
      else if (error instanceof RedisUnavailableError) metrics.redisErrors.inc({ kind: error.kind });
      log.debug(`${transport} call failed: ${(error as Error).message}`);
      return { error };
    } finally {
      metrics.requests.inc({ transport, code: outcome });
      metrics.duration.observe({ transport }, (performance.now() - start) / 1000);
      if (--inFlight === 0) idle?.();
    }
  }

  const drained = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve)));
  return { shouldRateLimit, serve, drained };
}

/** Descriptors without a budget answer OK without a Redis round trip; the rest are decided together. */
async function decideRequest(options: CallOptions, request: RateLimitRequest): Promise<RateLimitResponse> {
  const plan = planRequest(request, { domains: options.domains });
  const budgets = plan.filter((b): b is Budget => b !== undefined);
  if (budgets.length === 0) {
    return { overallCode: 'OK', statuses: plan.map(() => ({ code: 'OK', limitRemaining: 0 })) };
  }
  const decision = await decide(options.client, budgets, options.timeoutMs);
  let next = 0;
  const statuses = plan.map((budget): DescriptorStatus => {
    if (budget === undefined) return { code: 'OK', limitRemaining: 0 };
    const result = decision.results[next++]!;
    return {
      code: result.ok ? 'OK' : 'OVER_LIMIT',
      currentLimit: { name: budget.name, requestsPerUnit: budget.requestsPerUnit, unit: budget.unit },
      limitRemaining: result.remaining,
      durationUntilResetMs: result.resetMs,
    };
  });
  return { overallCode: decision.allowed ? 'OK' : 'OVER_LIMIT', statuses };
}
