// Helpers for the `sergo xds` suites: rule files that are saved as an editor saves them, the server
// (in this process, or as the real CLI in a child process that can be killed), Envoys whose
// bootstrap `sergo translate --format envoy --xds` emits (test/envoy/harness.ts), and waiting for
// an Envoy to ACK a version.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERGO_CLI } from '../../src/envoy/index.ts';
import { startXds, type NodeStatus, type XdsHandle, type XdsOptions, type XdsStatus } from '../../src/xds/index.ts';
import { eventually, freePort, get, launchers, send, SERGO_WASM, type Launcher, type RunningEnvoy } from '../envoy/harness.ts';

export { eventually, freePort, send, sleep } from '../envoy/harness.ts';

/** The Envoy binary only: a container Envoy cannot reach a server on this machine's loopback. */
export async function processLaunchers(suite: string): Promise<Launcher[]> {
  return (await launchers(suite)).filter((l) => l.name === 'process');
}

// ---- rules ----

export interface LimitRule {
  name: string;
  resource: string;
  threshold: number;
  /** default 60 */
  seconds?: number;
  mode?: 'Local' | 'GlobalToLocal';
}

/** OpenSergo YAML: one RateLimitStrategy + FaultToleranceRule per rule, all for `app`. */
export function limitRules(app: string, rules: readonly LimitRule[], namespace?: string): string {
  const ns = namespace === undefined ? '' : `, namespace: ${namespace}`;
  return rules.map((r) => `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: ${r.name}${ns}, labels: { app: ${app} } }
spec: { metricType: RequestAmount, limitMode: ${r.mode ?? 'Local'}, threshold: ${r.threshold}, statDurationSeconds: ${r.seconds ?? 60} }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: ${r.name}${ns}, labels: { app: ${app} } }
spec:
  targets: [{ targetResourceName: '${r.resource}' }]
  strategies: [{ name: ${r.name}, kind: RateLimitStrategy }]
`).join('---\n');
}

/** A temporary directory of rule files. */
export class RulesDir {
  readonly path = mkdtempSync(join(tmpdir(), 'sergo-xds-rules-'));

  file(name: string): string {
    return join(this.path, name);
  }

  /** Saves as editors do: a temporary file renamed over the old one. */
  save(name: string, text: string): string {
    const target = this.file(name);
    const temporary = join(this.path, `.${name}.${process.pid}.tmp`);
    writeFileSync(temporary, text);
    renameSync(temporary, target);
    return target;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

// ---- the server ----

export interface TestServer {
  handle: XdsHandle;
  /** every log line so far */
  log: string[];
}

export async function startServer(options: Partial<XdsOptions> & Pick<XdsOptions, 'rules'>): Promise<TestServer> {
  const log: string[] = [];
  const handle = await startXds({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    module: SERGO_WASM,
    logLevel: 'debug',
    write: (line) => void log.push(line),
    ...options,
  });
  return { handle, log };
}

/** `sergo xds` as a user runs it, in a child process (to kill it for real). */
export class XdsProcess {
  private output = '';
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly port: number, readonly adminUrl: string) {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(args: readonly string[], port: number): Promise<XdsProcess> {
    const adminPort = await freePort();
    const child = spawn(process.execPath, [SERGO_CLI, 'xds', ...args, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`,
      '--module', SERGO_WASM, '--log-level', 'debug'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new XdsProcess(child, port, `http://127.0.0.1:${adminPort}`);
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`sergo xds exited: ${server.output}`);
      return (await get(`${server.adminUrl}/ready`).catch(() => undefined))?.status === 200;
    }, 20_000, 'sergo xds ready');
    return server;
  }

  logs(): string {
    return this.output;
  }

  /** null while it runs (or when a signal ended it) */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  async status(): Promise<XdsStatus> {
    return JSON.parse((await get(`${this.adminUrl}/status`)).body) as XdsStatus;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null) this.child.kill(signal);
    await this.exited;
  }
}

// ---- Envoys ----

export interface EnvoyOf {
  envoy: RunningEnvoy;
  resource: string;
}

/** An Envoy whose sergo filter takes `app`'s rules from the server at `address` (HOST:PORT). */
export function startEnvoy(launcher: Launcher, rules: string, upstreamPort: number, address: string, more: string[] = []): Promise<RunningEnvoy> {
  return launcher.start({ rules, upstreamPort, translateArgs: ['--xds', address, ...more] });
}

/** Envoy's own view: the ECDS version it applied (`version_text` of the filter's discovery stats). */
export async function envoyVersion(envoy: RunningEnvoy, resource: string): Promise<string | undefined> {
  const text = (await get(`${envoy.adminUrl}/stats?filter=${encodeURIComponent(`${resource}.version_text`)}`)).body;
  return /version_text: "([^"]*)"/.exec(text)?.[1];
}

export async function envoyStat(envoy: RunningEnvoy, name: string): Promise<number> {
  return (await envoy.stats(`^${name.replace(/[.]/g, '\\.')}$`)).get(name) ?? 0;
}

/** Statuses of `n` requests, one after the other, each on its own connection. */
export async function statuses(envoy: RunningEnvoy, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(envoy.url, path)).status);
  return out;
}

export function count(values: readonly number[], value: number): number {
  return values.filter((v) => v === value).length;
}

/** Waits until every node of `resource` runs what it was last sent, and that differs from `not`. */
export async function converged(status: () => Promise<XdsStatus> | XdsStatus, resource: string, nodes: number, not?: string | null): Promise<NodeStatus[]> {
  let rows: NodeStatus[] = [];
  await eventually(async () => {
    rows = (await status()).nodes.filter((n) => n.resource === resource);
    return rows.length === nodes && rows.every((n) => n.state === 'ACKed' && n.running === n.sent && n.running !== not);
  }, 15_000, `${nodes} node(s) of ${resource} ACKing a new version`);
  return rows;
}
