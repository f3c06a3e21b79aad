// The service's Redis connection: fail-fast options, connection state in logs and sergo_rls_redis_up,
// a bounded wait at startup (the service starts without Redis and recovers when it connects).
import { createClient } from 'redis';
import type { RedisClient } from './counter.ts';
import type { RlsLogger } from './log.ts';
import type { RlsMetrics } from './metrics.ts';

export interface RedisOptions {
  url: string;
  timeoutMs: number;
  maxPendingCommands: number;
  maxReconnectDelayMs: number;
  startupWaitMs: number;
}

/** A client that connects (and reconnects) by itself; resolves once ready or after startupWaitMs. */
export async function connectRedis(options: RedisOptions, log: RlsLogger, metrics: RlsMetrics): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url: options.url,
    // Fail at once while disconnected instead of queueing (the caller gets UNAVAILABLE now).
    disableOfflineQueue: true,
    commandsQueueMaxLength: options.maxPendingCommands,
    socket: {
      connectTimeout: Math.max(options.timeoutMs, 1000),
      reconnectStrategy: (retries: number) => Math.min(25 * 2 ** Math.min(retries, 10), options.maxReconnectDelayMs),
    },
  });
  watchConnection(client, options.url, log, metrics);
  const connecting = client.connect().catch((err: Error) => log.error(`Redis connect gave up: ${err.message}`));
  await Promise.race([connecting, sleep(options.startupWaitMs)]);
  if (!client.isReady) log.warn('starting without Redis: calls answer UNAVAILABLE / 503 until it connects');
  return client;
}

function watchConnection(client: RedisClient, url: string, log: RlsLogger, metrics: RlsMetrics): void {
  let state: 'connecting' | 'ready' | 'down' = 'connecting';
  client.on('ready', () => {
    if (state !== 'ready') log.info(`Redis connection ready (${redactUrl(url)})`);
    state = 'ready';
    metrics.redisUp.set(1);
  });
  client.on('error', (err: Error) => {
    // Logged once per outage; every failed call is counted in sergo_rls_redis_errors_total.
    if (state !== 'down') log.warn(`Redis connection failed: ${err.message} (reconnecting)`);
    state = 'down';
    metrics.redisUp.set(0);
  });
  client.on('end', () => metrics.redisUp.set(0));
}

export async function closeRedis(client: RedisClient, metrics: RlsMetrics): Promise<void> {
  // QUIT when connected (lets queued replies arrive), otherwise just drop the socket.
  if (client.isReady) {
    await Promise.race([client.close(), sleep(1000)]);
  }
  if (client.isOpen) client.destroy();
  metrics.redisUp.set(0);
}

export function checkRedisUrl(url: string): void {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
