// Helpers for the end-to-end tests of `sergo serve`: a controllable upstream, rule files in a
// temporary directory, a plain HTTP client over real sockets, polling.
import http from 'node:http';
import { afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServe, type ServeHandle, type ServeOptions } from '../../src/serve/index.ts';

/** What the helpers started in the current test, closed after it, newest first. */
const started: { close(): unknown }[] = [];

/** Closes something after the current test (the helpers below track what they start). */
export function track<T extends { close(): unknown }>(resource: T): T {
  started.push(resource);
  return resource;
}

/** Call once per test file: after each test, close everything tracked (servers, upstreams, dirs). */
export function closeAfterEach(): void {
  afterEach(async () => {
    for (const r of started.splice(0).reverse()) await r.close();
  });
}

export interface Hit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

export interface TestUpstream {
  url: string;
  port: number;
  hits: Hit[];
  /** requests whose connection closed before the upstream answered */
  aborted: string[];
  /** /flaky answers 500 while true, 200 otherwise */
  failing: boolean;
  close(): Promise<void>;
}

/**
 * Routes: /ok (200 "ok"), /slow?ms=N (200 after N ms), /status/NNN, /flaky, /echo (JSON: method, url,
 * headers, body length and sum), /stream (three chunks 150 ms apart), /hang (never answers),
 * anything else 200 "path".
 */
export async function startUpstream(): Promise<TestUpstream> {
  const up: TestUpstream = { url: '', port: 0, hits: [], aborted: [], failing: false, close: async () => {} };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    up.hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: performance.now() });
    res.on('close', () => {
      if (!res.writableFinished) up.aborted.push(req.url ?? '');
    });
    const p = url.pathname;
    if (p === '/slow') {
      const t = setTimeout(() => res.end('slow'), Number(url.searchParams.get('ms') ?? 300));
      res.on('close', () => clearTimeout(t));
      req.resume();
      return;
    }
    if (p === '/hang') return void req.resume();
    if (p.startsWith('/status/')) {
      req.resume();
      res.writeHead(Number(p.slice(8)), { 'content-type': 'text/plain' });
      return void res.end(`status ${p.slice(8)}`);
    }
    if (p === '/flaky') {
      req.resume();
      res.writeHead(up.failing ? 500 : 200);
      return void res.end(up.failing ? 'failed' : 'fine');
    }
    if (p === '/echo') {
      let length = 0;
      let sum = 0;
      req.on('data', (c: Buffer) => {
        length += c.length;
        for (const b of c) sum = (sum + b) % 1_000_000_007;
      });
      req.on('end', () => {
        const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, length, sum });
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' });
        res.end(body);
      });
      return;
    }
    if (p === '/stream') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one\n');
      const t1 = setTimeout(() => res.write('two\n'), 150);
      const t2 = setTimeout(() => res.end('three\n'), 300);
      res.on('close', () => (clearTimeout(t1), clearTimeout(t2)));
      return;
    }
    req.resume();
    res.end(p === '/ok' ? 'ok' : p);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  up.port = (server.address() as AddressInfo).port;
  up.url = `http://127.0.0.1:${up.port}`;
  up.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return track(up);
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Workspace {
  dir: string;
  file(name: string, text: string): string;
  cleanup(): void;
}

export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-serve-'));
  const ws: Workspace = {
    dir,
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  track({ close: ws.cleanup });
  return ws;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request on a new connection (so successive requests spread over the VMs like new clients). */
export function request(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Starts a request and destroys it (client abort) after `ms`. */
export function abortAfter(base: string, path: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(`${base}${path}`, { agent: false }, (res) => res.resume());
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    setTimeout(() => req.destroy(), ms);
  });
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Served {
  serve: ServeHandle;
  logs: string[];
  base: string;
}

/** startServe on loopback with random ports, log lines collected. */
export async function serveFor(opts: Partial<ServeOptions> & { upstream: string }): Promise<Served> {
  const logs: string[] = [];
  const serve = await startServe({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    reloadDebounceMs: 50,
    logLevel: 'info',
    write: (line) => logs.push(line),
    ...opts,
  });
  track(serve);
  return { serve, logs, base: serve.url };
}

/** The value of one Prometheus sample, by metric name and (some of) its labels. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const want = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (want) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function prometheus(served: Served): Promise<string> {
  return (await request(served.serve.adminUrl, '/stats/prometheus')).body;
}

// ------------------------------------------------------------------ OpenSergo documents

const API = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1';

export function rule(name: string, target: string, strategies: string[], fallback?: string): string {
  return `${API}
kind: FaultToleranceRule
metadata:
  name: ${name}
spec:
  selector:
    app: app
  targets:
    - targetResourceName: '${target}'
  strategies:
${strategies.map((s) => `    - name: ${s}`).join('\n')}
${fallback ? `  fallbackAction: ${fallback}\n` : ''}`;
}

export function strategy(kind: string, name: string, spec: string): string {
  return `${API}
kind: ${kind}
metadata:
  name: ${name}
spec:
${spec
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

export const docs = (...d: string[]) => d.join('---\n');
