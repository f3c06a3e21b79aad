// What one "Envoy process" holds for all its worker VMs: the plugin's settings, the shared-data
// store, shared queues, the stats store, the clock, the log, and the outstanding http calls (how
// many, and their deadlines on a manual clock). Per worker state lives in Vm; ProxyWasmHost is
// the facade that owns both.
import { LogLevelNum, type LogLevel } from './abi.ts';
import { ManualClock, SystemClock, type Clock } from './clock.ts';
import { MetricsStore } from './metrics.ts';
import { encodeProperties, type PluginInfo } from './properties.ts';
import { SharedDataStore } from './shared-data.ts';
import { SharedQueues } from './shared-queue.ts';
import { toBytes, utf8Encode } from './text.ts';
import type { HostCall, HostOptions, HttpCallHandler, LogEntry } from './types.ts';

/** An http call's deadline on a manual clock: ProxyWasmHost.advance fires it. */
export interface HttpDeadline {
  at: number;
  fire(): void;
}

export class HostProcess {
  readonly logs: LogEntry[] = [];
  readonly calls: HostCall[] = [];
  readonly clock: Clock;
  readonly realTimers: boolean;
  readonly sharedStore: SharedDataStore;
  readonly queues = new SharedQueues();
  readonly metricsStore: MetricsStore;
  readonly plugin: PluginInfo;
  configurationBytes: Uint8Array;
  readonly vmConfigurationBytes: Uint8Array;
  readonly logLevelNum: number;
  readonly failPolicy: 'open' | 'closed';
  readonly localReplyThroughFilter: boolean;
  /** "KEY=VALUE\0" entries for WASI environ_get */
  readonly environ: Uint8Array[];
  readonly httpCallHandler: HttpCallHandler | undefined;
  readonly recordCalls: boolean;
  readonly checkHeaders: boolean;
  /** http-call deadlines on a manual clock (real timers arm their own) */
  httpDeadlines: HttpDeadline[] = [];
  closed = false;

  private readonly onLog: HostOptions['onLog'];
  private readonly maxLogs: number;
  private readonly epochNs: bigint;
  private pendingHttp = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: HostOptions) {
    this.realTimers = opts.realTimers ?? false;
    this.clock = opts.clock ?? (this.realTimers ? new SystemClock() : new ManualClock());
    this.epochNs = this.clock.nowNs();
    this.sharedStore = opts.sharedData ?? new SharedDataStore();
    this.metricsStore = opts.metricsStore ?? new MetricsStore();
    this.plugin = {
      rootId: opts.rootId ?? 'sergo',
      pluginName: opts.pluginName ?? '',
      vmId: opts.vmId ?? '',
      properties: encodeProperties(opts.properties),
    };
    this.configurationBytes = toBytes(opts.configuration ?? '');
    this.vmConfigurationBytes = toBytes(opts.vmConfiguration ?? '');
    this.logLevelNum = LogLevelNum[opts.logLevel ?? 'info'];
    this.failPolicy = opts.failPolicy ?? 'closed';
    this.localReplyThroughFilter = opts.localReplyThroughFilter ?? true;
    this.environ = Object.entries(opts.environment ?? {}).map(([k, v]) => utf8Encode(`${k}=${v}\u0000`));
    this.httpCallHandler = opts.httpCallHandler;
    this.recordCalls = opts.recordCalls ?? false;
    this.checkHeaders = opts.checkHeaders ?? true;
    this.onLog = opts.onLog;
    this.maxLogs = opts.maxLogs ?? 100_000;
  }

  /** proxy_log / fd_write */
  guestLog(vm: number, level: LogLevel, message: string): void {
    this.push({ vm, level, message, source: 'guest' });
  }

  /** the host's own diagnostics */
  hostLog(vm: number, level: LogLevel, message: string): void {
    this.push({ vm, level, message, source: 'host' });
  }

  private push(entry: LogEntry): void {
    this.logs.push(entry);
    if (this.logs.length > this.maxLogs + (this.maxLogs >> 3) + 1) this.logs.splice(0, this.logs.length - this.maxLogs);
    if (this.onLog) {
      try {
        this.onLog(entry.vm, entry.level, entry.source === 'host' ? `[host] ${entry.message}` : entry.message);
      } catch (e) {
        // Not the guest's fault: surface it outside the guest call instead of trapping the VM.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /** WASI monotonic clock */
  monotonicNs(): bigint {
    if (this.clock instanceof SystemClock) return process.hrtime.bigint();
    const d = this.clock.nowNs() - this.epochNs + 1_000_000_000n;
    return d > 0n ? d : 0n;
  }

  /** A call went out; `onTimeout` answers it at `deadline` (Infinity: never). */
  httpCallStarted(deadline: number, onTimeout: () => void): void {
    this.pendingHttp++;
    if (deadline === Infinity || this.closed) return;
    if (this.realTimers) {
      const t = setTimeout(onTimeout, Math.max(0, deadline - this.clock.nowMs()));
      t.unref?.();
    } else {
      this.httpDeadlines.push({ at: deadline, fire: onTimeout });
    }
  }

  httpCallFinished(): void {
    this.pendingHttp--;
    if (this.pendingHttp === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves once no proxy_http_call is outstanding. */
  whenIdle(): Promise<void> {
    if (this.pendingHttp === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
