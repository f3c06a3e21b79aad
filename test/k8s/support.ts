// The test API server (test/k8s/apiserver: the real kube-apiserver 1.37.2 with its CRD server on an
// embedded etcd, built by scripts/k8s-apiserver.sh) for the test/k8s suites: start it on a fresh
// data directory, install the CRDs (deploy/crds.yaml and Istio's WasmPlugin kind), apply manifests
// with its kubectl, read objects and the audit log, restart it, stop it. Controllers run in this
// process (startController) or as the real CLI in a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../support/paths.ts';
import { requireComponent } from '../support/components.ts';
import { startController, type ControllerHandle, type ControllerOptions } from '../../src/controller/index.ts';

export { sleep };
export const INSTALL = 'scripts/k8s-apiserver.sh';
export const CRDS = join(repoRoot, 'deploy/crds.yaml');
export const WASM_PLUGIN_CRD = join(repoRoot, 'test/k8s/fixtures/istio-wasmplugin-crd.yaml');
export const SERGO_CLI = join(repoRoot, 'bin/sergo.js');

let binary: { path?: string; error?: string } | undefined;

/** The binary: $SERGO_K8S_APISERVER, else what scripts/k8s-apiserver.sh built (it builds when missing: minutes). */
export function apiServerBinary(): { path?: string; error?: string } {
  if (binary !== undefined) return binary;
  const run = spawnSync(join(repoRoot, INSTALL), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  const path = run.stdout.trim().split('\n').pop();
  binary = run.status === 0 && path !== undefined && existsSync(path) ? { path } : { error: (run.stderr || run.error?.message || 'no output').trim().split('\n').slice(-3).join(' ') };
  return binary;
}

/** True when the API server can run here; under CI=true a missing one fails the suite. */
export function haveApiServer(suite: string): boolean {
  const found = apiServerBinary();
  return requireComponent(suite, 'the test API server (kube-apiserver + etcd)', found.path !== undefined, INSTALL, found.error);
}

interface Ready {
  server: string;
  kubeconfig: string;
  token: string;
  auditLog: string;
  etcd: string;
}

export class ApiServer {
  private child: ChildProcess | undefined;
  private stderr = '';
  ready!: Ready;

  private constructor(readonly dataDir: string) {}

  static async start(): Promise<ApiServer> {
    const server = new ApiServer(mkdtempSync(join(tmpdir(), 'sergo-k8s-')));
    await server.run();
    return server;
  }

  get kubeconfig(): string {
    return this.ready.kubeconfig;
  }

  /**
   * The same data directory again: the same port, certificates, token and objects. SIGKILL by
   * default (a crash; etcd's writes are in the page cache): a graceful stop waits for the open
   * watches, up to a minute.
   */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    await this.run();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * `kubectl ARGS…` as the admin; rejects with kubectl's stderr when it fails. Asynchronous, so that
   * a controller running in this process keeps running (and renewing its lease) meanwhile.
   */
  async kubectl(args: string[], input?: string): Promise<string> {
    const run = await this.tryKubectl(args, input);
    if (!run.ok) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr.trim()}`);
    return run.stdout;
  }

  /** kubectl's outcome without throwing. */
  tryKubectl(args: string[], input?: string): Promise<{ ok: boolean; code: number | null; stdout: string; stderr: string }> {
    return runProcess(apiServerBinary().path!, ['kubectl', '--kubeconfig', this.kubeconfig, ...args], input);
  }

  apply(yaml: string, namespace?: string): Promise<string> {
    return this.kubectl(['apply', '-f', '-', ...(namespace === undefined ? [] : ['-n', namespace])], yaml);
  }

  async getJson<T = Record<string, any>>(args: string[]): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return JSON.parse(await this.kubectl(['get', ...args, '-o', 'json'])) as T;
  }

  /** The object, or undefined when it does not exist. */
  async find<T = Record<string, any>>(resource: string, name: string, namespace: string): Promise<T | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out = await this.kubectl(['get', resource, name, '-n', namespace, '-o', 'json', '--ignore-not-found']);
    return out.trim() === '' ? undefined : (JSON.parse(out) as T);
  }

  /** The CRDs of deploy/crds.yaml and the WasmPlugin kind, established. */
  async installCrds(): Promise<void> {
    await this.kubectl(['apply', '-f', CRDS, '-f', WASM_PLUGIN_CRD]);
    await this.kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd', '--all']);
  }

  /** Audit events (one per request that completed) since `sinceMs` (epoch ms). */
  audit(sinceMs = 0): AuditEvent[] {
    if (!existsSync(this.ready.auditLog)) return [];
    return readFileSync(this.ready.auditLog, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.stage === 'ResponseComplete' && Date.parse(e.requestReceivedTimestamp) >= sinceMs);
  }

  private async run(): Promise<void> {
    const child = spawn(apiServerBinary().path!, ['--data-dir', this.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    this.ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the API server was not ready in 90 s:\n${this.stderr.slice(-3000)}`)), 90_000);
      createInterface(child.stdout!).on('line', (line) => {
        if (!line.startsWith('{')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as Ready);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the API server exited (${code}):\n${this.stderr.slice(-3000)}`));
      });
    });
  }

  private async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(forced);
  }
}

/** Runs a program to its end: its status, stdout and stderr. */
export function runProcess(file: string, args: string[], input?: string, cwd?: string): Promise<{ ok: boolean; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ok: code === 0, code, stdout, stderr }));
    child.stdin!.end(input);
  });
}

export interface AuditEvent {
  stage: string;
  verb: string;
  userAgent?: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

/** Requests a controller made (its User-Agent names its identity). */
export function byController(events: readonly AuditEvent[], identity: string): AuditEvent[] {
  return events.filter((e) => e.userAgent?.includes(`(${identity})`));
}

export function isWrite(e: AuditEvent): boolean {
  return ['create', 'update', 'patch', 'delete'].includes(e.verb);
}

// ---- controllers ----

export const TEST_LEASE = { namespace: 'default', name: 'sergo-controller', leaseDurationMs: 4000, renewEveryMs: 1000, renewDeadlineMs: 3000 };
export const TEST_PLUGIN = { url: 'oci://ghcr.io/sergo-wasm/sergo:test', failPolicy: 'closed' as const, traffic: 'inbound' as const };

/** A controller in this process, quiet, with a short lease. */
export function controllerFor(api: ApiServer, more: Partial<ControllerOptions> = {}): Promise<ControllerHandle> {
  return startController({
    kubeconfig: api.kubeconfig,
    plugin: TEST_PLUGIN,
    leaderElection: TEST_LEASE,
    logLevel: 'warn',
    write: (line) => void process.stderr.write(line),
    qps: 500,
    burst: 500,
    debounceMs: 20,
    ...more,
  });
}

/** `sergo controller` as a child process (the real CLI): can be killed. */
export class ControllerProcess {
  private output = '';
  readonly child: ChildProcess;

  constructor(readonly identity: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [SERGO_CLI, 'controller', '--identity', identity, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  logs(): string {
    return this.output;
  }

  /** The exit code (null when a signal ended it). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Flags of a child controller against `api` (a short lease, admin on a free port). */
export function processFlags(api: ApiServer, more: string[] = []): string[] {
  return [
    '--kubeconfig', api.kubeconfig,
    '--url', TEST_PLUGIN.url,
    '--lease-namespace', TEST_LEASE.namespace,
    '--lease-duration-ms', String(TEST_LEASE.leaseDurationMs),
    '--renew-every-ms', String(TEST_LEASE.renewEveryMs),
    '--renew-deadline-ms', String(TEST_LEASE.renewDeadlineMs),
    '--admin', '127.0.0.1:0',
    '--qps', '500', '--burst', '500',
    ...more,
  ];
}

export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not hold within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${(last as Error).message})`}`);
}

/** The Accepted condition of an object, as kubectl shows it. */
export function accepted(o: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }> } } | undefined) {
  return o?.status?.conditions?.find((c) => c.type === 'Accepted');
}
