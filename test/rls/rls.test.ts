// The rate-limit service against a real Redis (SERGO_TEST_REDIS_URL, default redis://127.0.0.1:6399;
// start it with scripts/redis.sh). Every test uses its own rule ids, so runs never share budgets.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRateLimitService, type RunningRateLimitService } from '../../src/rls/index.ts';
import { repoRoot } from '../support/paths.ts';
import {
  count,
  GrpcRls,
  httpCall,
  httpGet,
  metric,
  one,
  REDIS_URL,
  redisAnswers,
  sleep,
  uniqueRule,
  type Answer,
  type CallSpec,
} from './support.ts';
import { requireComponent } from '../support/components.ts';

const redisUp = requireComponent('test/rls/rls.test.ts', `a Redis answering on ${REDIS_URL}`, await redisAnswers(REDIS_URL),
  'scripts/redis.sh (installs redis-server and starts it on 127.0.0.1:6399)');

describe.skipIf(!redisUp)('rate-limit service with Redis', () => {
  const services: RunningRateLimitService[] = [];
  const grpcClients: GrpcRls[] = [];
  const redis = createClient({ url: REDIS_URL });
  let svc: RunningRateLimitService;
  let grpc: GrpcRls;

  async function start(redisTimeoutMs?: number): Promise<RunningRateLimitService> {
    const s = await startRateLimitService({ redisUrl: REDIS_URL, ...(redisTimeoutMs !== undefined ? { redisTimeoutMs } : {}) });
    services.push(s);
    return s;
  }
  function grpcClient(port: number): GrpcRls {
    const c = new GrpcRls(port);
    grpcClients.push(c);
    return c;
  }
  /** Total hits counted in Redis for a budget key. */
  async function counted(key: string): Promise<number> {
    const buckets = await redis.hGetAll(key);
    return Object.values(buckets).reduce((sum, v) => sum + Number(v), 0);
  }

  beforeAll(async () => {
    redis.on('error', () => {});
    await redis.connect();
    // The counting tests fire concurrent bursts from this process; a 1 s Redis deadline keeps a busy
    // event loop (or CI machine) from turning a slow reply into UNAVAILABLE. The default 50 ms
    // deadline is exercised by the /metrics and CLI tests here and by failures.test.ts.
    svc = await start(1000);
    grpc = grpcClient(svc.grpcPort);
  });

  afterAll(async () => {
    for (const c of grpcClients) c.close();
    await Promise.all(services.map((s) => s.close()));
    redis.destroy();
  });

  it('admits exactly the threshold across 3 replicas and 3 concurrent clients (gRPC and HTTP), then again in the next window', async () => {
    // This test is about exact counting. The clients and the 3 replicas share this process' event loop
    // (and a small CI machine), so a 300-call burst can delay reading Redis' replies past the default
    // 50 ms deadline; the replicas get 2 s here. The deadline itself is tested in failures.test.ts.
    const replicas = [await start(2000), await start(2000), await start(2000)];
    const viaGrpc = [grpcClient(replicas[0]!.grpcPort), grpcClient(replicas[2]!.grpcPort)];
    const rule = uniqueRule('three-clients');
    const spec = one(rule, 100, { windowMs: 3000 });
    const clients: ((spec: CallSpec) => Promise<Answer>)[] = [
      (s) => viaGrpc[0]!.call(s), // client 1: gRPC to replica 1
      (s) => httpCall(replicas[1]!.httpPort, s), // client 2: HTTP to replica 2
      (() => {
        let n = 0; // client 3: alternates gRPC and HTTP to replica 3
        return (s: CallSpec) => (n++ % 2 === 0 ? viaGrpc[1]!.call(s) : httpCall(replicas[2]!.httpPort, s));
      })(),
    ];
    const burst = async () => {
      const begin = performance.now();
      const answers = (await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 100 }, () => c(spec)))))).flat();
      return { answers, ms: performance.now() - begin };
    };

    const first = await burst();
    expect(first.ms, 'the burst must fit in one window for the count to be meaningful').toBeLessThan(3000);
    expect(count(first.answers, (a) => a.code === 'OK')).toBe(100);
    expect(count(first.answers, (a) => a.code === 'OVER_LIMIT')).toBe(200);
    // Client 2 spoke HTTP: 200 for OK, 429 for OVER_LIMIT.
    for (const a of first.answers.slice(100, 200)) expect(a.status).toBe(a.code === 'OK' ? 200 : 429);
    // Nothing left, as seen through the programmatic API (hits_addend 0 = a query).
    const query = await svc.shouldRateLimit({
      domain: 'sergo',
      descriptors: [
        {
          entries: [{ key: 'sergo_rule', value: rule }, { key: 'sergo_window_ms', value: '3000' }],
          limit: { requestsPerUnit: 100, unit: 'SECOND' },
          hitsAddend: 0,
        },
      ],
      hitsAddend: 0,
    });
    expect([query.overallCode, query.statuses[0]!.limitRemaining]).toEqual(['OVER_LIMIT', 0]);

    // Budget comes back when the buckets holding the admissions leave the window.
    const wait = Math.max(...first.answers.map((a) => a.statuses[0]!.resetMs!));
    expect(wait).toBeLessThanOrEqual(3000 + 150);
    await sleep(wait + 50);
    const second = await burst();
    expect(count(second.answers, (a) => a.code === 'OK')).toBe(100);
    expect(count(second.answers, (a) => a.code === 'OVER_LIMIT')).toBe(200);
  });

  it('allows no 2x burst across a fixed-window boundary (sliding window)', async () => {
    const spec = one(uniqueRule('edge'), 20, { unit: 'SECOND' });
    // Admit the whole budget late in a wall-clock second…
    while (Date.now() % 1000 < 800 || Date.now() % 1000 > 850) await sleep(5);
    const late = await Promise.all(Array.from({ length: 20 }, () => httpCall(svc.httpPort, spec)));
    const lateDone = Date.now();
    expect(count(late, (a) => a.code === 'OK')).toBe(20);
    // …then try right after the boundary: a fixed window aligned to seconds would admit 20 more.
    while (Date.now() % 1000 > 400) await sleep(5);
    await sleep(100);
    const early = await Promise.all(Array.from({ length: 20 }, () => grpc.call(spec)));
    expect(count(early, (a) => a.code === 'OVER_LIMIT')).toBe(20);
    // A full window (plus the current and one more 50 ms bucket) after the first burst ended, the
    // budget is back. (Under load the burst itself can span buckets: count from its end.)
    await sleep(Math.max(Math.max(...early.map((a) => a.statuses[0]!.resetMs!)) + 20, lateDone + 1000 + 150 - Date.now()));
    const later = await Promise.all(Array.from({ length: 20 }, () => httpCall(svc.httpPort, spec)));
    expect(count(later, (a) => a.code === 'OK')).toBe(20);
  });

  it('supports any window length through sergo_window_ms (5 s)', async () => {
    const spec = one(uniqueRule('five-seconds'), 3, { windowMs: 5000, unit: 'SECOND' });
    const admitted = [await httpCall(svc.httpPort, spec), await grpc.call(spec), await httpCall(svc.httpPort, spec)];
    // The window slides in 250 ms buckets: on a loaded machine the three hits can fall in different
    // buckets, and only the first has left when the refusal's reset has passed.
    const lastHitBy = Date.now();
    expect(admitted.map((a) => [a.code, a.statuses[0]!.remaining])).toEqual([
      ['OK', 2],
      ['OK', 1],
      ['OK', 0],
    ]);
    const refused = await httpCall(svc.httpPort, spec);
    expect(refused.code).toBe('OVER_LIMIT');
    expect(refused.status).toBe(429);
    const reset = refused.statuses[0]!.resetMs!;
    expect(reset).toBeGreaterThan(4000);
    expect(reset).toBeLessThanOrEqual(5250);
    // Past a SECOND (the unit in the override), still refused: the window is 5 s.
    await sleep(1500);
    expect((await grpc.call(spec)).code).toBe('OVER_LIMIT');
    await sleep(Math.max(reset - 1500, lastHitBy + 5000 + 250 - Date.now()) + 50);
    const again = await httpCall(svc.httpPort, spec);
    expect(again.code).toBe('OK');
    expect(again.statuses[0]!.remaining).toBe(2);
  });

  it('honours hits_addend (request and descriptor level) and reports limit_remaining for batch reservations', async () => {
    const rule = uniqueRule('hits');
    const spec = (hits: number, descriptorHits?: number): CallSpec => ({
      descriptors: [{ rule, limit: 100, unit: 'MINUTE', ...(descriptorHits !== undefined ? { hits: descriptorHits } : {}) }],
      hits,
    });
    const seq: [string, number][] = [];
    for (const s of [spec(30), spec(30), spec(30), spec(30), spec(30, 10), spec(0, 0)]) {
      const a = seq.length % 2 === 0 ? await httpCall(svc.httpPort, s) : await grpc.call(s);
      seq.push([a.code, a.statuses[0]!.remaining]);
    }
    expect(seq).toEqual([
      ['OK', 70],
      ['OK', 40],
      ['OK', 10],
      ['OVER_LIMIT', 10], // 30 do not fit; the 10 left are reported so a proxy can ask for less
      ['OK', 0], // descriptor hits_addend 10 replaces the request's 30
      ['OVER_LIMIT', 0], // hits_addend 0: a query, nothing left
    ]);
    const key = `sergo:rls:sergo:60000:sergo_rule=${encodeURIComponent(rule)}`;
    expect(await counted(key)).toBe(100);
    // A query on a fresh budget answers OK and counts nothing.
    const fresh = uniqueRule('query');
    const query = await grpc.call({ descriptors: [{ rule: fresh, limit: 5, unit: 'MINUTE', hits: 0 }] });
    expect([query.code, query.statuses[0]!.remaining]).toEqual(['OK', 5]);
    expect(await redis.exists(`sergo:rls:sergo:60000:sergo_rule=${encodeURIComponent(fresh)}`)).toBe(0);
  });

  it('never lets an over-limit request consume budget', async () => {
    const rule = uniqueRule('no-consume');
    const key = `sergo:rls:sergo:60000:sergo_rule=${encodeURIComponent(rule)}`;
    const spec = one(rule, 10, { unit: 'MINUTE' });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? grpc.call(spec) : httpCall(svc.httpPort, spec))));
    expect(count(answers, (a) => a.code === 'OK')).toBe(10);
    expect(await counted(key)).toBe(10);
    // A batch that does not fit is refused whole and leaves the budget as it was.
    const rule2 = uniqueRule('no-consume-batch');
    const key2 = `sergo:rls:sergo:60000:sergo_rule=${encodeURIComponent(rule2)}`;
    const batch = (hits: number) => httpCall(svc.httpPort, one(rule2, 10, { unit: 'MINUTE', hits }));
    expect((await batch(8)).statuses[0]!.remaining).toBe(2);
    const tooBig = await batch(5);
    expect([tooBig.code, tooBig.statuses[0]!.remaining]).toEqual(['OVER_LIMIT', 2]);
    expect(await counted(key2)).toBe(8);
    expect((await batch(2)).code).toBe('OK');
    expect(await counted(key2)).toBe(10);
  });

  it('counts all descriptors of a call or none of them', async () => {
    const wide = uniqueRule('wide');
    const narrow = uniqueRule('narrow');
    const both: CallSpec = { descriptors: [{ rule: wide, limit: 10, unit: 'MINUTE' }, { rule: narrow, limit: 1, unit: 'MINUTE' }] };
    const first = await grpc.call(both);
    expect(first.code).toBe('OK');
    expect(first.statuses.map((s) => [s.code, s.remaining])).toEqual([
      ['OK', 9],
      ['OK', 0],
    ]);
    const second = await httpCall(svc.httpPort, both);
    expect(second.code).toBe('OVER_LIMIT');
    expect(second.statuses.map((s) => [s.code, s.remaining])).toEqual([
      ['OK', 9], // would pass, but nothing is counted because "narrow" refused the call
      ['OVER_LIMIT', 0],
    ]);
    const wideAlone = await grpc.call(one(wide, 10, { unit: 'MINUTE' }));
    expect(wideAlone.statuses[0]!.remaining).toBe(8);
    // The same budget twice in one call counts twice.
    const twice = uniqueRule('twice');
    const dup: CallSpec = { descriptors: [{ rule: twice, limit: 1, unit: 'MINUTE' }, { rule: twice, limit: 1, unit: 'MINUTE' }] };
    expect((await httpCall(svc.httpPort, dup)).code).toBe('OVER_LIMIT');
    expect((await httpCall(svc.httpPort, one(twice, 1, { unit: 'MINUTE' }))).code).toBe('OK');
  });

  it('answers OK for descriptors without a limit, and keys budgets under sergo:rls: with an expiry', async () => {
    const free = await httpCall(svc.httpPort, { descriptors: [{ rule: uniqueRule('no-limit') }] });
    expect(free.code).toBe('OK');
    expect(free.statuses).toEqual([{ code: 'OK', remaining: 0, resetMs: undefined }]);
    const rule = uniqueRule('ttl');
    await grpc.call(one(rule, 5, { windowMs: 2000 }));
    const keys = await redis.keys(`sergo:rls:sergo:2000:sergo_rule=${encodeURIComponent(rule)}`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(2000);
    expect(ttl).toBeLessThanOrEqual(2200); // (20 + 2) buckets of 100 ms
  });

  it('rejects malformed calls with HTTP 400 / gRPC INVALID_ARGUMENT', async () => {
    const bad = [
      await httpCall(svc.httpPort, '{"domain":"sergo","descriptors":[{"entries":[{"key":"a","value":"b"}]}],"hits":2}'),
      await httpCall(svc.httpPort, 'not json'),
      await httpCall(svc.httpPort, { domain: 'elsewhere', descriptors: [{ rule: 'r', limit: 1 }] }),
      await httpCall(svc.httpPort, one('r', 1, { windowMs: 0 })),
    ];
    for (const a of bad) expect([a.status, a.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(bad[0]!.message).toMatch(/unknown field "hits"/);
    expect(bad[2]!.message).toMatch(/unknown domain "elsewhere"/);
    const viaGrpc = await grpc.callRaw({ domain: 'sergo', descriptors: [] });
    expect(viaGrpc.code).toBe('INVALID_ARGUMENT');
    expect(viaGrpc.message).toMatch(/descriptors must not be empty/);
    expect((await httpGet(svc.httpPort, '/json')).status).toBe(405);
    expect((await httpGet(svc.httpPort, '/nope')).status).toBe(404);
  });

  it('serves /healthz (200 while Redis answers PING) and Prometheus /metrics', async () => {
    const fresh = await start();
    const client = grpcClient(fresh.grpcPort);
    const health = await httpGet(fresh.httpPort, '/healthz');
    expect(health).toEqual({ status: 200, body: 'ok\n' });
    const rule = uniqueRule('metrics');
    await httpCall(fresh.httpPort, one(rule, 1));
    await httpCall(fresh.httpPort, one(rule, 1));
    await client.call(one(rule, 1));
    await client.callRaw({ domain: 'sergo', descriptors: [] });
    const res = await httpGet(fresh.httpPort, '/metrics');
    expect(res.status).toBe(200);
    const text = res.body;
    expect(metric(text, 'sergo_rls_requests_total{transport="http",code="OK"}')).toBe(1);
    expect(metric(text, 'sergo_rls_requests_total{transport="http",code="OVER_LIMIT"}')).toBe(1);
    expect(metric(text, 'sergo_rls_requests_total{transport="grpc",code="OVER_LIMIT"}')).toBe(1);
    expect(metric(text, 'sergo_rls_requests_total{transport="grpc",code="INVALID"}')).toBe(1);
    expect(metric(text, 'sergo_rls_requests_total{transport="grpc",code="ERROR"}')).toBe(0);
    expect(metric(text, 'sergo_rls_redis_errors_total{kind="timeout"}')).toBe(0);
    expect(metric(text, 'sergo_rls_redis_errors_total{kind="unavailable"}')).toBe(0);
    expect(metric(text, 'sergo_rls_decision_duration_seconds_count{transport="http"}')).toBe(2);
    expect(metric(text, 'sergo_rls_decision_duration_seconds_count{transport="grpc"}')).toBe(2);
    expect(metric(text, 'sergo_rls_decision_duration_seconds_bucket{le="+Inf",transport="grpc"}')).toBe(2);
    expect(metric(text, 'sergo_rls_redis_up')).toBe(1);
    expect(text).toContain('# TYPE sergo_rls_decision_duration_seconds histogram');
  });

  it('measures the latency of one decision (HTTP and gRPC, sequential)', async () => {
    const spec = one(uniqueRule('latency'), 1_000_000, { unit: 'MINUTE' });
    const measure = async (call: () => Promise<Answer>) => {
      for (let i = 0; i < 200; i++) await call(); // warm-up (connections, JIT, script cache)
      const samples: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const t = performance.now();
        const a = await call();
        samples.push(performance.now() - t);
        if (a.code !== 'OK') throw new Error(`unexpected ${a.code}`);
      }
      samples.sort((a, b) => a - b);
      const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
      return { p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: samples.reduce((s, v) => s + v, 0) / samples.length };
    };
    const http = await measure(() => httpCall(svc.httpPort, spec));
    const grpcLatency = await measure(() => grpc.call(spec));
    const fmt = (r: { p50: number; p90: number; p99: number; mean: number }) =>
      `p50 ${r.p50.toFixed(3)} ms, p90 ${r.p90.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, mean ${r.mean.toFixed(3)} ms`;
    console.log(`[rls latency, client-observed, local Redis] HTTP/JSON: ${fmt(http)}\n[rls latency] gRPC: ${fmt(grpcLatency)}`);
    expect(http.p50).toBeLessThan(10);
    expect(grpcLatency.p50).toBeLessThan(10);
  });

  it('runs as `sergo rls` and shuts down gracefully on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      // --redis-timeout: the default 50 ms answers UNAVAILABLE when a loaded machine delays Redis; this
      // test is about the CLI and its shutdown.
      ['bin/sergo.js', 'rls', '--redis', REDIS_URL, '--redis-timeout', '5000', '--listen', '127.0.0.1:0', '--grpc', '127.0.0.1:0'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      let ports: RegExpExecArray | null = null;
      while (Date.now() < deadline && (ports = /listening: http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:(\d+)/.exec(stderr)) === null) {
        await sleep(50);
      }
      expect(ports, stderr).not.toBeNull();
      const [httpPort, grpcPort] = [Number(ports![1]), Number(ports![2])];
      const rule = uniqueRule('cli');
      expect((await httpCall(httpPort, one(rule, 1))).code).toBe('OK');
      const cliGrpc = grpcClient(grpcPort);
      expect((await cliGrpc.call(one(rule, 1))).code).toBe('OVER_LIMIT');
      cliGrpc.close();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'hung')]);
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/SIGTERM received/);
      expect(stderr).toMatch(/stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('sergo rls argument errors', () => {
  it.each([
    [['rls'], /required option '--redis <url>' not specified/],
    [['rls', '--redis', 'http://x'], /invalid Redis URL/],
    [['rls', '--redis', 'redis://127.0.0.1:1', '--listen', 'nope'], /invalid HTTP listen address "nope"/],
    [['rls', '--redis', 'redis://127.0.0.1:1', '--redis-timeout', '0'], /--redis-timeout.*positive integer/],
    [['rls', '--redis', 'redis://127.0.0.1:1', '--log-level', 'loud'], /--log-level.*Allowed choices/],
  ])('%j exits 2 with a message', async (args, message) => {
    const { runSergo } = await import('../support/cli.ts');
    const run = await runSergo(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
