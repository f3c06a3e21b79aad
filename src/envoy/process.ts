// One Envoy as a child process: started from a bootstrap file with hot restart off (several Envoys
// then run side by side without a shared-memory base id), ready once its admin /ready answers 200,
// stopped with SIGTERM. Optionally pinned to CPUs with taskset (which execs Envoy: the pid is Envoy's).
import { spawn, type ChildProcess } from 'node:child_process';
import { adminGet, sleep } from './admin.ts';

export interface EnvoyProcessOptions {
  /** the Envoy binary (src/envoy/binary.ts) */
  binary: string;
  bootstrapFile: string;
  /** http://HOST:PORT of the bootstrap's admin address, polled for /ready */
  adminUrl: string;
  /** worker threads (--concurrency) */
  concurrency: number;
  /** --log-level (default info) */
  logLevel?: string;
  /** a taskset CPU list (e.g. "0"): Envoy and all its threads run only there */
  cpus?: string;
  /** how long to wait for /ready (default 60 s) */
  readyTimeoutMs?: number;
}

export class EnvoyProcess {
  private readonly log = new LogBuffer();
  private readonly exited: Promise<void>;
  private code: number | null | undefined;

  private constructor(private readonly child: ChildProcess, readonly adminUrl: string) {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.log.add(chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => { this.code = code; resolve(); }));
  }

  /** Starts Envoy and waits until it is ready; throws with its log's tail if it exits or times out. */
  static async start(o: EnvoyProcessOptions): Promise<EnvoyProcess> {
    const args = ['-c', o.bootstrapFile, '--concurrency', String(o.concurrency), '--disable-hot-restart',
      '--log-level', o.logLevel ?? 'info', '--drain-time-s', '0'];
    const [command, argv] = o.cpus === undefined ? [o.binary, args] : ['taskset', ['-c', o.cpus, o.binary, ...args]];
    // stdout carries the emitted access log: not kept.
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    const envoy = new EnvoyProcess(child, o.adminUrl);
    child.once('error', (err) => envoy.log.add(`spawn ${command}: ${err.message}\n`));
    try {
      await envoy.ready(o.readyTimeoutMs ?? 60_000);
    } catch (err) {
      await envoy.stop();
      throw err;
    }
    return envoy;
  }

  get pid(): number | undefined { return this.child.pid; }
  /** the exit code once it has exited (null when a signal ended it), undefined while it runs */
  get exitCode(): number | null | undefined { return this.code; }
  /** Envoy's log so far (stderr). */
  logs(): string { return this.log.text(); }
  logTail(lines = 30): string { return this.log.tail(lines); }

  /** /ready answers 200 once every worker has its listeners and the module is configured. */
  private async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.code !== undefined) throw new Error(`envoy exited with code ${this.code} before it was ready:\n${this.log.tail()}`);
      try {
        if ((await adminGet(`${this.adminUrl}/ready`, 2_000)).status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    throw new Error(`envoy was not ready within ${timeoutMs / 1000} s:\n${this.log.tail()}`);
  }

  /** SIGTERM, SIGKILL after 10 s; resolves when the process has ended. */
  async stop(): Promise<void> {
    if (this.code === undefined && this.child.pid !== undefined) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    if (this.child.pid !== undefined) await this.exited;
    clearTimeout(timer);
  }
}

/** Envoy's stderr, capped at ~4 MB (the oldest chunks go first). */
class LogBuffer {
  private chunks: string[] = [];
  private size = 0;
  add(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > 4_000_000 && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string { return this.chunks.join(''); }
  tail(lines = 30): string { return this.text().split('\n').slice(-lines).join('\n'); }
}
