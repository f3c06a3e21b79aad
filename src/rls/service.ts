// The rate-limit service: stateless itself, every count in Redis. Serves
//   gRPC  envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit
//   HTTP  POST /json (same call in proto3 JSON; 200 OK, 429 OVER_LIMIT), GET /healthz, GET /metrics
// Failure policy: when Redis does not answer within `redisTimeoutMs` the call fails (gRPC
// UNAVAILABLE, HTTP 503) — never a silent OK; the proxy's failure mode decides. The client reconnects
// by itself, so the service recovers when Redis comes back.
import type * as grpc from '@grpc/grpc-js';
import { createCalls } from './calls.ts';
import type { RedisClient } from './counter.ts';
import { createGrpcServer } from './grpc-server.ts';
import { createHttpFront, type HttpFront } from './http-server.ts';
import { hostPort, listenGrpc, listenHttp, parseListen } from './listen.ts';
import { silentLogger, type RlsLogger } from './log.ts';
import { createMetrics, type RlsMetrics } from './metrics.ts';
import type { RateLimitRequest, RateLimitResponse } from './model.ts';
import { checkRedisUrl, closeRedis, connectRedis } from './redis.ts';

// The pieces live in their own modules; these re-exports keep this module's API.
export { createLogger, LOG_LEVELS, type LogLevel, type RlsLogger } from './log.ts';
export { parseListen, type ListenAddress } from './listen.ts';
export { redactUrl } from './redis.ts';

export interface RateLimitServiceOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  redisUrl: string;
  /** HTTP listen address "host:port" (port 0 = any). Default 127.0.0.1:0. */
  httpListen?: string;
  /** gRPC listen address "host:port" (port 0 = any). Default 127.0.0.1:0. */
  grpcListen?: string;
  /** Domains accepted; '*' accepts any. Default ['sergo']. */
  domains?: readonly string[] | '*';
  /** Deadline of the Redis round trip of one decision (and of the health check's PING). Default 50 ms. */
  redisTimeoutMs?: number;
  /** Redis commands queued or awaiting a reply beyond which calls fail at once. Default 10000. */
  maxPendingRedisCommands?: number;
  /** How long close() lets in-flight calls finish before cutting connections. Default 10000 ms. */
  shutdownGraceMs?: number;
  /** How long startup waits for the first Redis connection (the service starts anyway). Default 1000 ms. */
  startupRedisWaitMs?: number;
  /** Largest reconnect back-off. Default 500 ms. */
  maxReconnectDelayMs?: number;
  logger?: RlsLogger;
}

export interface RunningRateLimitService {
  httpPort: number;
  grpcPort: number;
  /** The service's Prometheus registry (what GET /metrics serves). */
  metrics: RlsMetrics;
  /** The decision itself, without a transport (embedding, tests). Throws InvalidRequestError / RedisUnavailableError. */
  shouldRateLimit(request: RateLimitRequest): Promise<RateLimitResponse>;
  /** Stops accepting, lets in-flight calls finish (up to shutdownGraceMs), then closes Redis. Idempotent. */
  close(): Promise<void>;
}

export async function startRateLimitService(options: RateLimitServiceOptions): Promise<RunningRateLimitService> {
  const log = options.logger ?? silentLogger;
  const timeoutMs = options.redisTimeoutMs ?? 50;
  const domains = options.domains ?? ['sergo'];
  const httpAddress = parseListen(options.httpListen ?? '127.0.0.1:0', 'HTTP');
  const grpcAddress = parseListen(options.grpcListen ?? '127.0.0.1:0', 'gRPC');
  checkRedisUrl(options.redisUrl);
  const metrics = createMetrics();
  const client = await connectRedis(
    {
      url: options.redisUrl,
      timeoutMs,
      maxPendingCommands: options.maxPendingRedisCommands ?? 10_000,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 500,
      startupWaitMs: options.startupRedisWaitMs ?? 1000,
    },
    log,
    metrics,
  );
  const calls = createCalls({ client, domains, timeoutMs, metrics, log });
  const http = createHttpFront({ calls, client, timeoutMs, metrics, log });
  const grpcServer = createGrpcServer(calls, log);

  let httpPort: number;
  let grpcPort: number;
  try {
    httpPort = await listenHttp(http.server, httpAddress);
    grpcPort = await listenGrpc(grpcServer, grpcAddress);
  } catch (err) {
    http.server.close();
    grpcServer.forceShutdown();
    client.destroy();
    throw new Error(`cannot listen: ${(err as Error).message}`);
  }
  log.info(
    `listening: http=${hostPort(httpAddress.host, httpPort)} grpc=${hostPort(grpcAddress.host, grpcPort)} ` +
      `domains=${domains === '*' ? '*' : domains.join(',')} redis-timeout=${timeoutMs}ms`,
  );

  const parts: ServiceParts = { http, grpcServer, client, metrics, drained: calls.drained };
  let closed: Promise<void> | undefined;
  return {
    httpPort,
    grpcPort,
    metrics,
    shouldRateLimit: calls.shouldRateLimit,
    close: () => (closed ??= shutdown(parts, options.shutdownGraceMs ?? 10_000, log)),
  };
}

interface ServiceParts {
  http: HttpFront;
  grpcServer: grpc.Server;
  client: RedisClient;
  metrics: RlsMetrics;
  drained(): Promise<void>;
}

/** Stops accepting, waits up to graceMs for in-flight calls, then cuts what is left and closes Redis. */
async function shutdown(parts: ServiceParts, graceMs: number, log: RlsLogger): Promise<void> {
  const { http, grpcServer } = parts;
  http.beginClosing();
  log.info('shutting down: no new connections, finishing in-flight calls');
  const httpClosed = new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeIdleConnections();
  const grpcClosed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
  const clean = await withinGrace(Promise.all([httpClosed, grpcClosed, parts.drained()]), graceMs);
  if (!clean) {
    log.warn(`in-flight calls still running after ${graceMs} ms: closing their connections`);
    http.server.closeAllConnections();
    grpcServer.forceShutdown();
  }
  await closeRedis(parts.client, parts.metrics);
  log.info('stopped');
}

/** True when `work` finished within `ms`, false when the grace ran out first. */
async function withinGrace(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const clean = await Promise.race([work.then(() => true), timedOut]);
  clearTimeout(timer);
  return clean;
}
