// Helpers for the rate-limit service tests: a Redis probe, redis-server children, gRPC and HTTP
// clients that speak the wire forms, and a request builder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createClient } from 'redis';
import { rateLimitServiceClient } from '../../src/rls/grpc.ts';

export const REDIS_URL = process.env.SERGO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6399';

/** True when a Redis at `url` answers PING within timeoutMs. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), timeoutMs);
    return (await withTimeout(client.ping(), timeoutMs)) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** The redis-server binary answers --version (needed by the tests that stop and restart Redis). */
export const redisServerInstalled = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server child process on its own port (no persistence), for stop/pause/restart tests. */
export class RedisChild {
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'sergo-rls-redis-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<RedisChild> {
    const child = new RedisChild(port ?? (await freePort()));
    await child.start();
    return child;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.proc = spawn('redis-server', [...args, '--dir', this.dir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await redisAnswers(this.url, 200)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
  }

  /** SIGSTOP: the socket stays open, Redis answers nothing (a "slow" Redis). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- requests --------------------------------------------------------------------------------

export interface DescriptorSpec {
  rule: string;
  limit?: number;
  unit?: string;
  windowMs?: number;
  /** Descriptor-level hits_addend. */
  hits?: number;
  /** Extra entries (after sergo_rule). */
  entries?: [string, string][];
}

export interface CallSpec {
  descriptors: DescriptorSpec[];
  /** Request-level hits_addend. */
  hits?: number;
  domain?: string;
}

export function uniqueRule(name: string): string {
  return `test/${name}/${randomUUID()}`;
}

/** One descriptor of one rule. */
export function one(rule: string, limit: number, more: Omit<DescriptorSpec, 'rule' | 'limit'> & { hits?: number } = {}): CallSpec {
  return { descriptors: [{ rule, limit, ...more }] };
}

function entriesOf(d: DescriptorSpec): { key: string; value: string }[] {
  const entries = [{ key: 'sergo_rule', value: d.rule }];
  for (const [key, value] of d.entries ?? []) entries.push({ key, value });
  if (d.windowMs !== undefined) entries.push({ key: 'sergo_window_ms', value: String(d.windowMs) });
  return entries;
}

/** proto3 JSON (lowerCamelCase), as the filter sends it to POST /json. */
export function jsonRequest(spec: CallSpec): Record<string, unknown> {
  return {
    domain: spec.domain ?? 'sergo',
    descriptors: spec.descriptors.map((d) => ({
      entries: entriesOf(d),
      ...(d.limit !== undefined ? { limit: { requestsPerUnit: d.limit, unit: d.unit ?? 'SECOND' } } : {}),
      ...(d.hits !== undefined ? { hitsAddend: d.hits } : {}),
    })),
    ...(spec.hits !== undefined ? { hitsAddend: spec.hits } : {}),
  };
}

/** The object proto-loader encodes (snake_case names, as in the .proto). */
export function grpcRequest(spec: CallSpec): Record<string, unknown> {
  return {
    domain: spec.domain ?? 'sergo',
    descriptors: spec.descriptors.map((d) => ({
      entries: entriesOf(d),
      ...(d.limit !== undefined ? { limit: { requests_per_unit: d.limit, unit: d.unit ?? 'SECOND' } } : {}),
      ...(d.hits !== undefined ? { hits_addend: { value: d.hits } } : {}),
    })),
    ...(spec.hits !== undefined ? { hits_addend: spec.hits } : {}),
  };
}

/** A transport-independent view of an answer. */
export interface Answer {
  /** OK / OVER_LIMIT, or the failure: UNAVAILABLE, INVALID_ARGUMENT, … */
  code: string;
  /** HTTP status (HTTP) or gRPC status code (gRPC). */
  status: number;
  statuses: { code: string; remaining: number; resetMs: number | undefined; limit?: number }[];
  message?: string;
}

export async function httpCall(port: number, spec: CallSpec | string): Promise<Answer> {
  const body = typeof spec === 'string' ? spec : JSON.stringify(jsonRequest(spec));
  const res = await fetch(`http://127.0.0.1:${port}/json`, { method: 'POST', body });
  const text = await res.text();
  const json = JSON.parse(text) as {
    overallCode?: string;
    statuses?: { code: string; limitRemaining?: number; durationUntilReset?: string; currentLimit?: { requestsPerUnit: number } }[];
    error?: { code: string; message: string };
  };
  if (json.error !== undefined) return { code: json.error.code, status: res.status, statuses: [], message: json.error.message };
  return {
    code: json.overallCode!,
    status: res.status,
    statuses: (json.statuses ?? []).map((s) => ({
      code: s.code,
      remaining: s.limitRemaining ?? 0,
      resetMs: s.durationUntilReset === undefined ? undefined : Math.round(parseFloat(s.durationUntilReset) * 1000),
      ...(s.currentLimit !== undefined ? { limit: s.currentLimit.requestsPerUnit } : {}),
    })),
  };
}

interface GrpcAnswer {
  overall_code: string;
  statuses?: {
    code: string;
    limit_remaining?: number;
    duration_until_reset?: { seconds?: number; nanos?: number };
    current_limit?: { requests_per_unit: number };
  }[];
}

export class GrpcRls {
  private readonly client: grpc.Client & Record<string, unknown>;
  constructor(port: number) {
    const Ctor = rateLimitServiceClient();
    this.client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, unknown>;
  }

  call(spec: CallSpec, deadlineMs = 5000): Promise<Answer> {
    return this.callRaw(grpcRequest(spec), deadlineMs);
  }

  /** Sends a request object as given (proto-loader form, snake_case). */
  callRaw(request: Record<string, unknown>, deadlineMs = 5000): Promise<Answer> {
    const method = this.client.ShouldRateLimit as (
      req: unknown,
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: GrpcAnswer) => void,
    ) => void;
    return new Promise((resolve) => {
      method.call(this.client, request, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err !== null) {
          resolve({ code: grpc.status[err.code] ?? String(err.code), status: err.code, statuses: [], message: err.details });
          return;
        }
        resolve({
          code: res.overall_code,
          status: grpc.status.OK,
          statuses: (res.statuses ?? []).map((s) => ({
            code: s.code,
            remaining: s.limit_remaining ?? 0,
            resetMs:
              s.duration_until_reset === undefined
                ? undefined
                : (s.duration_until_reset.seconds ?? 0) * 1000 + Math.round((s.duration_until_reset.nanos ?? 0) / 1e6),
            ...(s.current_limit !== undefined ? { limit: s.current_limit.requests_per_unit } : {}),
          })),
        });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** GET a path; a fresh connection each time (no keep-alive), so it also tests that the server accepts. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line of a Prometheus text exposition (undefined when absent). */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export function count<T>(items: T[], predicate: (item: T) => boolean): number {
  return items.filter(predicate).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true (or throws after timeoutMs). */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
