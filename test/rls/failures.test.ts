// Failure behaviour of the rate-limit service, each test with its own redis-server child process
// (so it can be killed, paused with SIGSTOP and restarted): never a silent OK, a bounded wait,
// errors counted, automatic recovery, graceful shutdown.
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRateLimitService, type RateLimitServiceOptions, type RunningRateLimitService } from '../../src/rls/index.ts';
import {
  eventually,
  freePort,
  GrpcRls,
  httpCall,
  httpGet,
  metric,
  one,
  RedisChild,
  redisServerInstalled,
  uniqueRule,
  sleep,
  type Answer,
} from './support.ts';
import { requireComponent } from '../support/components.ts';

// These tests start, pause and kill their own redis-server.
const redisThere = requireComponent('test/rls/failures.test.ts', 'the redis-server binary', redisServerInstalled,
  'scripts/redis.sh (installs the Debian package redis-server)');

describe.skipIf(!redisThere)('rate-limit service when Redis fails', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function redisChild(port?: number): Promise<RedisChild> {
    const child = port === undefined ? await RedisChild.start() : new RedisChild(port);
    cleanup.push(() => child.dispose());
    return child;
  }
  async function service(options: RateLimitServiceOptions): Promise<{ svc: RunningRateLimitService; grpc: GrpcRls }> {
    const svc = await startRateLimitService(options);
    const grpc = new GrpcRls(svc.grpcPort);
    cleanup.push(() => svc.close());
    cleanup.push(() => grpc.close());
    return { svc, grpc };
  }
  async function metrics(svc: RunningRateLimitService): Promise<string> {
    return (await httpGet(svc.httpPort, '/metrics')).body;
  }
  async function timed(call: () => Promise<Answer>): Promise<Answer & { ms: number }> {
    const t = performance.now();
    const answer = await call();
    return { ...answer, ms: performance.now() - t };
  }

  it('answers 503 / UNAVAILABLE when Redis is down, counts it, and recovers when Redis is back', async () => {
    const redis = await redisChild();
    const { svc, grpc } = await service({ redisUrl: redis.url });
    const spec = one(uniqueRule('down'), 100, { unit: 'MINUTE' });
    expect((await httpCall(svc.httpPort, spec)).code).toBe('OK');

    await redis.kill();
    const failures = [
      await timed(() => httpCall(svc.httpPort, spec)),
      await timed(() => grpc.call(spec)),
      await timed(() => httpCall(svc.httpPort, spec)),
      await timed(() => grpc.call(spec)),
    ];
    expect(failures.map((a) => [a.code, a.status])).toEqual([
      ['UNAVAILABLE', 503],
      ['UNAVAILABLE', 14],
      ['UNAVAILABLE', 503],
      ['UNAVAILABLE', 14],
    ]);
    for (const a of failures) expect(a.ms).toBeLessThan(1000);
    expect((await httpGet(svc.httpPort, '/healthz')).status).toBe(503);
    const down = await metrics(svc);
    expect(metric(down, 'sergo_rls_requests_total{transport="http",code="ERROR"}')).toBe(2);
    expect(metric(down, 'sergo_rls_requests_total{transport="grpc",code="ERROR"}')).toBe(2);
    const redisErrors = ['timeout', 'unavailable', 'error'].reduce(
      (sum, kind) => sum + metric(down, `sergo_rls_redis_errors_total{kind="${kind}"}`)!,
      0,
    );
    expect(redisErrors).toBeGreaterThanOrEqual(5); // 4 calls + 1 health check
    expect(metric(down, 'sergo_rls_redis_up')).toBe(0);

    // Same port, empty server (no persistence, empty script cache): the service reconnects by itself.
    await redis.start();
    await eventually(async () => (await httpCall(svc.httpPort, spec)).code === 'OK', 5000, 'HTTP OK after restart');
    expect((await grpc.call(spec)).code).toBe('OK');
    expect(await httpGet(svc.httpPort, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(metric(await metrics(svc), 'sergo_rls_redis_up')).toBe(1);
  });

  it('answers within the deadline when Redis hangs (SIGSTOP), and recovers after SIGCONT', async () => {
    const redis = await redisChild();
    const { svc, grpc } = await service({ redisUrl: redis.url }); // default deadline: 50 ms
    const spec = one(uniqueRule('slow'), 100, { unit: 'MINUTE' });
    expect((await grpc.call(spec)).code).toBe('OK');

    redis.pause();
    const slow = [await timed(() => httpCall(svc.httpPort, spec)), await timed(() => grpc.call(spec))];
    expect(slow.map((a) => [a.code, a.status])).toEqual([
      ['UNAVAILABLE', 503],
      ['UNAVAILABLE', 14],
    ]);
    for (const a of slow) {
      expect(a.message).toMatch(/did not answer within 50 ms/);
      expect(a.ms).toBeGreaterThanOrEqual(45);
      expect(a.ms).toBeLessThan(500);
    }
    const health = await httpGet(svc.httpPort, '/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatch(/did not answer within 50 ms/);
    const m = await metrics(svc);
    expect(metric(m, 'sergo_rls_redis_errors_total{kind="timeout"}')).toBe(3);
    expect(metric(m, 'sergo_rls_requests_total{transport="http",code="ERROR"}')).toBe(1);
    expect(metric(m, 'sergo_rls_requests_total{transport="grpc",code="ERROR"}')).toBe(1);

    redis.resume();
    await eventually(async () => (await grpc.call(spec)).code === 'OK', 5000, 'gRPC OK after SIGCONT');
    expect((await httpCall(svc.httpPort, spec)).code).toBe('OK');
  });

  it('fails at once, without queueing, when too many Redis commands are pending', async () => {
    const redis = await redisChild();
    const { svc } = await service({ redisUrl: redis.url, redisTimeoutMs: 1000, maxPendingRedisCommands: 5 });
    const spec = one(uniqueRule('queue'), 100, { unit: 'MINUTE' });
    expect((await httpCall(svc.httpPort, spec)).code).toBe('OK');
    redis.pause();
    const answers = await Promise.all(Array.from({ length: 12 }, () => timed(() => httpCall(svc.httpPort, spec))));
    expect(answers.every((a) => a.code === 'UNAVAILABLE')).toBe(true);
    const fast = answers.filter((a) => a.ms < 500);
    expect(fast.length).toBeGreaterThanOrEqual(7);
    expect(fast[0]!.message).toMatch(/queue is full/);
    redis.resume();
  });

  it('starts while Redis is down (503 meanwhile) and serves once Redis appears', async () => {
    const port = await freePort();
    const { svc, grpc } = await service({ redisUrl: `redis://127.0.0.1:${port}`, startupRedisWaitMs: 100 });
    const spec = one(uniqueRule('late'), 100, { unit: 'MINUTE' });
    expect((await httpCall(svc.httpPort, spec)).status).toBe(503);
    expect((await grpc.call(spec)).code).toBe('UNAVAILABLE');
    expect((await httpGet(svc.httpPort, '/healthz')).status).toBe(503);
    const redis = await redisChild(port);
    await redis.start();
    await eventually(async () => (await grpc.call(spec)).code === 'OK', 5000, 'gRPC OK once Redis is up');
    expect((await httpGet(svc.httpPort, '/healthz')).status).toBe(200);
  });

  it('on close(): stops accepting, finishes in-flight calls, then quits Redis', async () => {
    const redis = await redisChild();
    const { svc, grpc } = await service({ redisUrl: redis.url, redisTimeoutMs: 5000 });
    const spec = one(uniqueRule('shutdown'), 100, { unit: 'MINUTE' });
    expect((await httpCall(svc.httpPort, spec)).code).toBe('OK');
    const observer = createClient({ url: redis.url });
    observer.on('error', () => {});
    await observer.connect();
    cleanup.push(() => observer.destroy());
    const clients = async () => Number(/connected_clients:(\d+)/.exec(await observer.info('clients'))![1]);
    expect(await clients()).toBe(2); // the service and the observer

    redis.pause(); // calls now wait for Redis
    const inFlight = [httpCall(svc.httpPort, spec), grpc.call(spec)];
    await sleep(150);
    const closed = svc.close();
    let closeDone = false;
    void closed.then(() => (closeDone = true));
    await sleep(100);
    await expect(httpGet(svc.httpPort, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    expect(closeDone).toBe(false);

    redis.resume();
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => [a.code, a.status])).toEqual([
      ['OK', 200],
      ['OK', 0],
    ]);
    await closed;
    expect(await clients()).toBe(1); // the service said QUIT
    expect((await grpc.call(spec, 1000)).code).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
  });
});
