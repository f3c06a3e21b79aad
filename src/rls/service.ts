// The rate-limit service: stateless itself, every count in Redis. Serves
//   gRPC  envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit
//   HTTP  POST /json (same call in proto3 JSON; 200 OK, 429 OVER_LIMIT), GET /healthz, GET /metrics
// Failure policy: when Redis does not answer within `redisTimeoutMs` the call fails (gRPC
// UNAVAILABLE, HTTP 503) — never a silent OK; the proxy's failure mode decides. The client reconnects
// by itself, so the service recovers when Redis comes back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { createClient } from 'redis';
import { decide, ping, RedisUnavailableError, type RedisClient } from './counter.ts';
import { fromWireRequest, rateLimitServiceDefinition, toWireResponse, type WireRequest } from './grpc.ts';
import { decodeJsonRequest, encodeJsonResponse } from './json.ts';
import { createMetrics, type Outcome, type RlsMetrics, type Transport } from './metrics.ts';
import {
  InvalidRequestError,
  planRequest,
  type Budget,
  type DescriptorStatus,
  type RateLimitRequest,
  type RateLimitResponse,
} from './model.ts';

export interface RlsLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing `sergo rls: level: message` lines at or above `level`. */
export function createLogger(level: LogLevel, write: (line: string) => void): RlsLogger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(l) <= rank) write(`sergo rls: ${l}: ${message}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const silent: RlsLogger = { error() {}, warn() {}, info() {}, debug() {} };

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

const MAX_BODY_BYTES = 1 << 20;

export async function startRateLimitService(options: RateLimitServiceOptions): Promise<RunningRateLimitService> {
  const log = options.logger ?? silent;
  const timeoutMs = options.redisTimeoutMs ?? 50;
  const domains = options.domains ?? ['sergo'];
  const graceMs = options.shutdownGraceMs ?? 10_000;
  const maxDelay = options.maxReconnectDelayMs ?? 500;
  const httpAddress = parseListen(options.httpListen ?? '127.0.0.1:0', 'HTTP');
  const grpcAddress = parseListen(options.grpcListen ?? '127.0.0.1:0', 'gRPC');
  checkRedisUrl(options.redisUrl);
  const metrics = createMetrics();

  // ---- Redis -------------------------------------------------------------------------------
  const client: RedisClient = createClient({
    url: options.redisUrl,
    // Fail at once while disconnected instead of queueing (the caller gets UNAVAILABLE now).
    disableOfflineQueue: true,
    commandsQueueMaxLength: options.maxPendingRedisCommands ?? 10_000,
    socket: {
      connectTimeout: Math.max(timeoutMs, 1000),
      reconnectStrategy: (retries: number) => Math.min(25 * 2 ** Math.min(retries, 10), maxDelay),
    },
  });
  let redisState: 'connecting' | 'ready' | 'down' = 'connecting';
  client.on('ready', () => {
    if (redisState !== 'ready') log.info(`Redis connection ready (${redactUrl(options.redisUrl)})`);
    redisState = 'ready';
    metrics.redisUp.set(1);
  });
  client.on('error', (err: Error) => {
    // Logged once per outage; every failed call is counted in sergo_rls_redis_errors_total.
    if (redisState !== 'down') log.warn(`Redis connection failed: ${err.message} (reconnecting)`);
    redisState = 'down';
    metrics.redisUp.set(0);
  });
  client.on('end', () => metrics.redisUp.set(0));
  const connecting = client.connect().catch((err: Error) => log.error(`Redis connect gave up: ${err.message}`));
  await Promise.race([connecting, sleep(options.startupRedisWaitMs ?? 1000)]);
  if (!client.isReady) log.warn('starting without Redis: calls answer UNAVAILABLE / 503 until it connects');

  // ---- the decision ------------------------------------------------------------------------
  let inFlight = 0;
  let idle: (() => void) | undefined;

  async function shouldRateLimit(request: RateLimitRequest): Promise<RateLimitResponse> {
    const plan = planRequest(request, { domains });
    const budgets = plan.filter((b): b is Budget => b !== undefined);
    if (budgets.length === 0) {
      return { overallCode: 'OK', statuses: plan.map(() => ({ code: 'OK', limitRemaining: 0 })) };
    }
    const decision = await decide(client, budgets, timeoutMs);
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

  /** Runs one call with metrics and in-flight accounting; returns the response or the error. */
  async function serve(
    transport: Transport,
    decode: () => RateLimitRequest,
  ): Promise<{ response: RateLimitResponse } | { error: unknown }> {
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

  // ---- HTTP --------------------------------------------------------------------------------
  let closing = false;
  const http = createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      log.error(`HTTP handler failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL', 'internal error'));
      else res.destroy();
    });
  });

  function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
    // While shutting down, every response closes its connection (keep-alive clients reconnect elsewhere).
    if (closing) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  }
  const sendJson = (res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}) =>
    send(res, status, { 'content-type': 'application/json', ...headers }, json);
  const sendText = (res: ServerResponse, status: number, text: string) =>
    send(res, status, { 'content-type': 'text/plain; charset=utf-8' }, text);
  http.keepAliveTimeout = 65_000;

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/json') {
      if (req.method !== 'POST') return sendJson(res, 405, errorBody('METHOD_NOT_ALLOWED', 'use POST'), { allow: 'POST' });
      const body = await readBody(req);
      if (body === undefined) {
        return sendJson(res, 413, errorBody('INVALID_ARGUMENT', `body larger than ${MAX_BODY_BYTES} bytes`));
      }
      const result = await serve('http', () => decodeJsonRequest(body));
      if ('response' in result) {
        const status = result.response.overallCode === 'OK' ? 200 : 429;
        return sendJson(res, status, encodeJsonResponse(result.response));
      }
      const { status, code } = httpError(result.error);
      if (status === 500) log.error(`decision failed: ${(result.error as Error).stack ?? String(result.error)}`);
      return sendJson(res, status, errorBody(code, (result.error as Error).message));
    }
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      try {
        await ping(client, timeoutMs);
        return sendText(res, 200, 'ok\n');
      } catch (err) {
        if (err instanceof RedisUnavailableError) metrics.redisErrors.inc({ kind: err.kind });
        return sendText(res, 503, `unhealthy: ${(err as Error).message}\n`);
      }
    }
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(res, 200, { 'content-type': metrics.registry.contentType }, await metrics.registry.metrics());
    }
    sendJson(res, 404, errorBody('NOT_FOUND', `no route ${req.method} ${path} (POST /json, GET /healthz, GET /metrics)`));
  }

  // ---- gRPC --------------------------------------------------------------------------------
  const grpcServer = new grpc.Server();
  grpcServer.addService(rateLimitServiceDefinition(), {
    ShouldRateLimit: (
      call: grpc.ServerUnaryCall<WireRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      void serve('grpc', () => fromWireRequest(call.request)).then((result) => {
        if ('response' in result) return callback(null, toWireResponse(result.response));
        const { error } = result;
        const code =
          error instanceof InvalidRequestError
            ? grpc.status.INVALID_ARGUMENT
            : error instanceof RedisUnavailableError
              ? grpc.status.UNAVAILABLE
              : grpc.status.INTERNAL;
        if (code === grpc.status.INTERNAL) log.error(`decision failed: ${(error as Error).stack ?? String(error)}`);
        callback({ code, details: (error as Error).message });
      });
    },
  });

  // ---- listen ------------------------------------------------------------------------------
  let httpPort: number;
  let grpcPort: number;
  try {
    httpPort = await new Promise<number>((resolve, reject) => {
      http.once('error', reject);
      http.listen(httpAddress.port, httpAddress.host, () => {
        http.off('error', reject);
        resolve((http.address() as AddressInfo).port);
      });
    });
    grpcPort = await new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(grpcAddress.text, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
  } catch (err) {
    http.close();
    grpcServer.forceShutdown();
    client.destroy();
    throw new Error(`cannot listen: ${(err as Error).message}`);
  }
  log.info(
    `listening: http=${hostPort(httpAddress.host, httpPort)} grpc=${hostPort(grpcAddress.host, grpcPort)} ` +
      `domains=${domains === '*' ? '*' : domains.join(',')} redis-timeout=${timeoutMs}ms`,
  );

  // ---- shutdown ----------------------------------------------------------------------------
  let closed: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    closing = true;
    log.info('shutting down: no new connections, finishing in-flight calls');
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const grpcClosed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    const finished = Promise.all([httpClosed, grpcClosed, drained]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const clean = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (!clean) {
      log.warn(`in-flight calls still running after ${graceMs} ms: closing their connections`);
      http.closeAllConnections();
      grpcServer.forceShutdown();
    }
    // QUIT when connected (lets queued replies arrive), otherwise just drop the socket.
    if (client.isReady) {
      await Promise.race([client.close(), sleep(1000)]);
    }
    if (client.isOpen) client.destroy();
    metrics.redisUp.set(0);
    log.info('stopped');
  }

  return {
    httpPort,
    grpcPort,
    metrics,
    shouldRateLimit,
    close: () => (closed ??= shutdown()),
  };
}

function httpError(error: unknown): { status: number; code: string } {
  if (error instanceof InvalidRequestError) return { status: 400, code: 'INVALID_ARGUMENT' };
  if (error instanceof RedisUnavailableError) return { status: 503, code: 'UNAVAILABLE' };
  return { status: 500, code: 'INTERNAL' };
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** The body as text, or undefined when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ListenAddress {
  host: string;
  port: number;
  /** host:port as gRPC wants it ([v6]:port). */
  text: string;
}

/** Parses "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseListen(value: string, what: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid ${what} listen address "${value}" (expected HOST:PORT)`);
  const host = match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!);
  return { host, port, text: hostPort(host, port) };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkRedisUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid Redis URL "${url}" (expected redis://HOST:PORT)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`invalid Redis URL "${url}" (expected redis:// or rediss://)`);
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
