// The two rate-limit services a limitMode Global rule can count in, as the Envoy tests run them:
//   sergo rls               src/rls in this process (startRateLimitService), on free loopback ports
//   envoyproxy/ratelimit    Envoy's reference service (scripts/ratelimit.sh builds the pinned
//                           version; SERGO_RATELIMIT=/path overrides), a child process configured
//                           through its environment, with the configuration file docs/rls.md gives
// Both count in a redis-server child of the suite. Under CI=true a missing redis-server or reference
// binary fails the run; elsewhere the suite is skipped with the command that installs it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRateLimitService, type RunningRateLimitService } from '../../src/rls/index.ts';
import { RedisChild, redisServerInstalled } from '../rls/support.ts';
import { repoRoot } from '../support/paths.ts';
import { requireComponent } from '../support/components.ts';
import { freePort, get, sleep } from './harness.ts';

/** A running rate-limit service as the tests see it: its HTTP/JSON port, and a way to take it down. */
export interface RunningService {
  readonly httpPort: number;
  /** Takes the service down at once: its port refuses connections afterwards. */
  kill(): Promise<void>;
  /** The service's own log (diagnostics). */
  logs(): string;
}

export interface ServiceKind {
  readonly name: 'sergo rls' | 'envoyproxy/ratelimit';
  /** How the service's windows run: sergo rls slides, the reference service counts calendar units. */
  readonly windows: 'sliding' | 'fixed';
  /** The health check, and its status while Redis is down. */
  readonly health: { path: string; whileRedisDown: number };
  start(redis: RedisChild): Promise<RunningService>;
}

// ---- sergo rls --------------------------------------------------------------------------------

export const sergoRls: ServiceKind = {
  name: 'sergo rls',
  windows: 'sliding',
  health: { path: '/healthz', whileRedisDown: 503 },
  async start(redis) {
    // A generous Redis deadline: on a loaded machine the default 50 ms would turn slowness into errors.
    const rls: RunningRateLimitService = await startRateLimitService({ redisUrl: redis.url, redisTimeoutMs: 1000, shutdownGraceMs: 0 });
    return { httpPort: rls.httpPort, kill: () => rls.close(), logs: () => '' };
  },
};

// ---- envoyproxy/ratelimit ---------------------------------------------------------------------

/** The reference service's binary: SERGO_RATELIMIT, else what scripts/ratelimit.sh installed (it builds it when missing). */
export function referenceBinary(): { path?: string; error?: string } {
  try {
    const out = execFileSync(join(repoRoot, 'scripts', 'ratelimit.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    const path = out.trim().split('\n').at(-1);
    return path === undefined || path === '' ? { error: 'scripts/ratelimit.sh printed no path' } : { path };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ') };
  }
}

/**
 * The configuration file docs/rls.md tells users to give the reference service: the yaml block that
 * follows the marker comment, so that the tests run exactly what the documentation says.
 */
export function documentedReferenceConfig(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'rls.md'), 'utf8');
  const m = /<!-- reference-config[^>]*-->\s*```yaml\n([\s\S]*?)```/.exec(doc);
  if (m === null) throw new Error('docs/rls.md has no `<!-- reference-config -->` yaml block');
  return m[1]!;
}

export function referenceService(binary: string): ServiceKind {
  return {
    name: 'envoyproxy/ratelimit',
    windows: 'fixed',
    health: { path: '/healthcheck', whileRedisDown: 200 },
    start: (redis) => ReferenceService.start(binary, redis.port, documentedReferenceConfig()),
  };
}

/** envoyproxy/ratelimit as a child process on free loopback ports, configured by its environment. */
export class ReferenceService implements RunningService {
  private log = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly httpPort: number, private readonly dir: string) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => this.append(c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => this.append(c));
    this.exited = new Promise((resolve) => child.once('exit', (code) => { this.exitCode = code; resolve(); }));
  }

  static async start(binary: string, redisPort: number, config: string): Promise<ReferenceService> {
    const [http, grpc, debug] = [await freePort(), await freePort(), await freePort()];
    // Files are read from RUNTIME_ROOT/RUNTIME_SUBDIRECTORY/config/*.yaml.
    const dir = mkdtempSync(join(tmpdir(), 'sergo-ratelimit-'));
    mkdirSync(join(dir, 'sergo', 'config'), { recursive: true });
    writeFileSync(join(dir, 'sergo', 'config', 'sergo.yaml'), config);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      REDIS_SOCKET_TYPE: 'tcp', REDIS_URL: `127.0.0.1:${redisPort}`,
      RUNTIME_ROOT: dir, RUNTIME_SUBDIRECTORY: 'sergo', RUNTIME_WATCH_ROOT: 'false',
      USE_STATSD: 'false', LOG_LEVEL: 'warn',
      HOST: '127.0.0.1', PORT: String(http), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(grpc),
      DEBUG_HOST: '127.0.0.1', DEBUG_PORT: String(debug),
    };
    const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const service = new ReferenceService(child, http, dir);
    try {
      await service.ready();
    } catch (err) {
      await service.kill();
      throw err;
    }
    return service;
  }

  logs(): string { return this.log; }

  /** /healthcheck answers once the configuration is loaded and the listeners are up. */
  private async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`envoyproxy/ratelimit exited with code ${this.exitCode}:\n${this.log.slice(-3000)}`);
      try {
        if ((await get(`http://127.0.0.1:${this.httpPort}/healthcheck`)).status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    throw new Error(`envoyproxy/ratelimit was not healthy within 30 s:\n${this.log.slice(-3000)}`);
  }

  /** SIGKILL, as a crash: no graceful shutdown. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private append(chunk: string): void {
    this.log = (this.log + chunk).slice(-200_000);
  }
}

// ---- what this machine has --------------------------------------------------------------------

/** The services a suite runs its scenarios against; both need redis-server. */
export function rateLimitServices(suite: string): ServiceKind[] {
  if (!requireComponent(suite, 'redis-server', redisServerInstalled, 'scripts/redis.sh')) return [];
  const found: ServiceKind[] = [sergoRls];
  const bin = referenceBinary();
  if (requireComponent(suite, 'envoyproxy/ratelimit', bin.path !== undefined,
    'scripts/ratelimit.sh (needs Go; or set SERGO_RATELIMIT=/path/to/service_cmd)', bin.error)) {
    found.push(referenceService(bin.path!));
  }
  return found;
}
