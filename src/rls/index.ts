// sergo's global rate-limit service (OpenSergo limitMode: Global): the protocol of Envoy's
// rate-limit service over gRPC and HTTP/JSON, every count in Redis. See docs/rls.md.
export {
  startRateLimitService,
  createLogger,
  parseListen,
  LOG_LEVELS,
  type LogLevel,
  type RateLimitServiceOptions,
  type RunningRateLimitService,
  type RlsLogger,
} from './service.ts';
export {
  planRequest,
  bucketsFor,
  InvalidRequestError,
  KEY_PREFIX,
  RULE_ENTRY,
  WINDOW_ENTRY,
  UNIT_MS,
  UNIT_NAMES,
  MAX_HITS_ADDEND,
  type Budget,
  type Code,
  type Descriptor,
  type DescriptorStatus,
  type Entry,
  type LimitOverride,
  type RateLimitRequest,
  type RateLimitResponse,
  type UnitName,
} from './model.ts';
export { decide, DECIDE_SCRIPT, RedisUnavailableError, type Decision, type BudgetResult } from './counter.ts';
export { decodeJsonRequest, encodeJsonResponse, durationJson } from './json.ts';
export { RLS_PROTO, SERVICE_NAME, rateLimitServiceClient } from './grpc.ts';
export type { RlsMetrics } from './metrics.ts';
