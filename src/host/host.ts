// ProxyWasmHost: one plugin loaded into N worker VMs of one "Envoy process". What is per worker
// (memory, globals, root context, ticks, context ids) lives in Vm; what is per process (shared
// data, shared queues, the stats store, the clock, the log) lives here.
import { LogLevelNum, type LogLevel } from './abi.ts';
import { checkModule } from './check.ts';
import { isSettable, ManualClock, SystemClock, type Clock } from './clock.ts';
import { MetricsStore, type MetricKind } from './metrics.ts';
import { encodeProperties, type PluginInfo } from './properties.ts';
import { SharedDataStore } from './shared-data.ts';
import { SharedQueues } from './shared-queue.ts';
import { toBytes, utf8Encode } from './text.ts';
import { Vm } from './vm.ts';
import type { HttpStream } from './stream.ts';
import type { HostCall, HostOptions, HttpCallHandler, LogEntry, PropertyValue } from './types.ts';

export interface SharedDataView {
  /** value (a copy) and cas of a key in this plugin's vm_id namespace */
  get(key: string): { value: Uint8Array; cas: number } | undefined;
  readonly size: number;
  keys(): string[];
}

export class ProxyWasmHost {
  readonly vms: readonly Vm[];
  readonly logs: LogEntry[] = [];
  /** every host call, when HostOptions.recordCalls is set */
  readonly calls: HostCall[] = [];
  readonly sharedData: SharedDataView;

  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly sharedStore: SharedDataStore;
  /** @internal */ readonly queues = new SharedQueues();
  /** @internal */ readonly metricsStore: MetricsStore;
  /** @internal */ readonly plugin: PluginInfo;
  /** @internal */ configurationBytes: Uint8Array;
  /** @internal */ readonly vmConfigurationBytes: Uint8Array;
  /** @internal */ readonly logLevelNum: number;
  /** @internal */ readonly failPolicy: 'open' | 'closed';
  /** @internal */ readonly localReplyThroughFilter: boolean;
  /** @internal "KEY=VALUE\0" entries for WASI environ_get */
  readonly environ: Uint8Array[];
  /** @internal */ readonly httpCallHandler: HttpCallHandler | undefined;
  /** @internal */ readonly recordCalls: boolean;
  /** @internal */ readonly checkHeaders: boolean;

  private readonly module: WebAssembly.Module;
  private readonly realTimers: boolean;
  private readonly onLog: HostOptions['onLog'];
  private readonly maxLogs: number;
  private readonly epochNs: bigint;
  private started = false;
  private closed = false;
  private rr = 0;
  private pendingHttp = 0;
  private idleWaiters: (() => void)[] = [];
  private httpTimeouts: { vm: Vm; token: number; at: number }[] = [];

  constructor(opts: HostOptions) {
    checkModule(opts.module);
    this.module = opts.module;
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
    const n = opts.vms ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`vms must be a positive integer, got ${n}`);
    const first = opts.firstContextId ?? 1;
    this.vms = Array.from({ length: n }, (_, i) => new Vm(this, i, first + i));
    const vmId = this.plugin.vmId;
    const store = this.sharedStore;
    this.sharedData = {
      get: (key) => {
        const e = store.get(vmId, key);
        return e ? { value: e.value.slice(), cas: e.cas } : undefined;
      },
      get size() {
        return store.size(vmId);
      },
      keys: () => store.keys(vmId),
    };
  }

  /**
   * Per VM: instantiate, _initialize, on_context_create(root, 0), on_vm_start, on_configure.
   * False if any VM trapped or its on_vm_start/on_configure returned false.
   */
  start(): boolean {
    if (this.started) throw new Error('ProxyWasmHost.start() called twice');
    this.started = true;
    let ok = true;
    for (const vm of this.vms) if (!vm.start(this.module)) ok = false;
    return ok;
  }

  /**
   * A configuration update: on_configure again on every VM's root context with the new
   * configuration. True only if every VM accepted it (a failed VM counts as accepting, as in
   * cpp-host); otherwise the previous configuration bytes are kept.
   */
  configure(configuration: string | Uint8Array): boolean {
    this.mustBeStarted();
    const prev = this.configurationBytes;
    this.configurationBytes = toBytes(configuration);
    let ok = true;
    for (const vm of this.vms) if (!vm.configure()) ok = false;
    if (!ok) this.configurationBytes = prev;
    return ok;
  }

  /** A new stream context on VM `vm` (default: round robin), on_context_create(id, root). */
  stream(vm?: number, properties?: Record<string, PropertyValue>): HttpStream {
    this.mustBeStarted();
    const i = vm ?? this.rr++ % this.vms.length;
    const v = this.vms[i];
    if (!v) throw new RangeError(`no VM ${i} (this host has ${this.vms.length})`);
    return v.newStream(properties);
  }

  /**
   * Advances the (settable) clock by `ms`, firing every due on_tick and http-call timeout in time
   * order with the clock set to the due time; ties go to the lower VM index.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): not a non-negative number`);
    const clock = this.clock;
    if (!isSettable(clock)) throw new Error('advance() needs a settable clock (e.g. ManualClock)');
    const target = clock.nowMs() + ms;
    for (;;) {
      let at = Infinity;
      let tickVm: Vm | undefined;
      if (!this.realTimers) {
        for (const vm of this.vms) {
          if (vm.nextTickAt <= target && vm.nextTickAt < at && !vm.failed) {
            at = vm.nextTickAt;
            tickVm = vm;
          }
        }
      }
      let timeout = -1;
      for (let i = 0; i < this.httpTimeouts.length; i++) {
        const t = this.httpTimeouts[i]!;
        if (t.at <= target && t.at < at) {
          at = t.at;
          timeout = i;
          tickVm = undefined;
        }
      }
      if (at === Infinity) break;
      clock.set(Math.max(at, clock.nowMs()));
      if (timeout >= 0) {
        const [t] = this.httpTimeouts.splice(timeout, 1);
        t!.vm.timeoutHttpCall(t!.token);
      } else {
        tickVm!.fireTick();
      }
    }
    clock.set(target);
  }

  /** Resolves once no proxy_http_call is outstanding. */
  whenIdle(): Promise<void> {
    if (this.pendingHttp === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Value of the stat with this name (counter/gauge value; histogram: sum of records). */
  metric(name: string): bigint | undefined {
    return this.metricsStore.find(name)?.value;
  }

  metrics(): Map<string, { type: MetricKind; value: bigint; count?: number }> {
    const out = new Map<string, { type: MetricKind; value: bigint; count?: number }>();
    for (const s of this.metricsStore.all()) {
      if (out.has(s.name)) continue;
      out.set(s.name, s.type === 'histogram' ? { type: s.type, value: s.value, count: s.count } : { type: s.type, value: s.value });
    }
    return out;
  }

  /** proxy_continue_stream calls that resumed nothing, over all VMs. */
  get spuriousResumes(): number {
    let n = 0;
    for (const vm of this.vms) n += vm.spuriousResumes;
    return n;
  }

  /** Stops real timers and http-call timeouts. */
  close(): void {
    this.closed = true;
    for (const vm of this.vms) vm.clearTimer();
    this.httpTimeouts = [];
  }

  // ------------------------------------------------------------------ internal

  private mustBeStarted(): void {
    if (!this.started) throw new Error('call ProxyWasmHost.start() first');
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

  /** @internal proxy_log / fd_write */
  guestLog(vm: number, level: LogLevel, message: string): void {
    this.push({ vm, level, message, source: 'guest' });
  }

  /** @internal the host's own diagnostics */
  hostLog(vm: number, level: LogLevel, message: string): void {
    this.push({ vm, level, message, source: 'host' });
  }

  /** @internal WASI monotonic clock */
  monotonicNs(): bigint {
    if (this.clock instanceof SystemClock) return process.hrtime.bigint();
    const d = this.clock.nowNs() - this.epochNs + 1_000_000_000n;
    return d > 0n ? d : 0n;
  }

  /** @internal */
  tickPeriodChanged(vm: Vm): void {
    if (!this.realTimers || this.closed) return;
    vm.clearTimer();
    if (vm.tickPeriodMs > 0 && !vm.failed) this.armTick(vm);
  }

  private armTick(vm: Vm): void {
    const t = setTimeout(() => {
      vm.timer = undefined;
      if (this.closed) return;
      vm.fireTick();
      // fireTick may have re-armed through proxy_set_tick_period_milliseconds
      if (vm.timer === undefined && vm.tickPeriodMs > 0 && !vm.failed && !this.closed) this.armTick(vm);
    }, vm.tickPeriodMs);
    t.unref?.();
    vm.timer = t;
  }

  /** @internal */
  httpCallStarted(vm: Vm, token: number, deadline: number): void {
    this.pendingHttp++;
    if (deadline === Infinity || this.closed) return;
    if (this.realTimers) {
      const t = setTimeout(() => vm.timeoutHttpCall(token), Math.max(0, deadline - this.clock.nowMs()));
      t.unref?.();
    } else {
      this.httpTimeouts.push({ vm, token, at: deadline });
    }
  }

  /** @internal */
  httpCallFinished(): void {
    this.pendingHttp--;
    if (this.pendingHttp === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }
}
