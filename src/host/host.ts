// ProxyWasmHost: one plugin loaded into N worker VMs of one "Envoy process". What is per worker
// (memory, globals, root context, ticks, context ids) lives in Vm; what is per process (shared
// data, shared queues, the stats store, the clock, the log) in HostProcess. This facade wires
// them: it builds each VM's imports, opens streams, and drives virtual time.
import { checkModule } from './check.ts';
import { isSettable } from './clock.ts';
import { createImports } from './imports.ts';
import type { MetricKind } from './metrics.ts';
import { HostProcess } from './process.ts';
import { openStream, type HttpStream } from './stream.ts';
import { toBytes } from './text.ts';
import { Vm } from './vm.ts';
import type { HostCall, HostOptions, LogEntry, PropertyValue } from './types.ts';

export interface SharedDataView {
  /** value (a copy) and cas of a key in this plugin's vm_id namespace */
  get(key: string): { value: Uint8Array; cas: number } | undefined;
  readonly size: number;
  keys(): string[];
}

export class ProxyWasmHost {
  readonly vms: readonly Vm[];
  readonly logs: LogEntry[];
  /** every host call, when HostOptions.recordCalls is set */
  readonly calls: HostCall[];
  readonly sharedData: SharedDataView;

  private readonly proc: HostProcess;
  private readonly module: WebAssembly.Module;
  private started = false;
  private rr = 0;

  constructor(opts: HostOptions) {
    checkModule(opts.module);
    this.module = opts.module;
    const proc = (this.proc = new HostProcess(opts));
    this.logs = proc.logs;
    this.calls = proc.calls;
    const n = opts.vms ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`vms must be a positive integer, got ${n}`);
    const first = opts.firstContextId ?? 1;
    this.vms = Array.from({ length: n }, (_, i) => new Vm(proc, i, first + i));
    const vmId = proc.plugin.vmId;
    const store = proc.sharedStore;
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
    for (const vm of this.vms) if (!vm.start(this.module, createImports(vm))) ok = false;
    return ok;
  }

  /**
   * A configuration update: on_configure again on every VM's root context with the new
   * configuration. True only if every VM accepted it (a failed VM counts as accepting, as in
   * cpp-host); otherwise the previous configuration bytes are kept.
   */
  configure(configuration: string | Uint8Array): boolean {
    this.mustBeStarted();
    const prev = this.proc.configurationBytes;
    this.proc.configurationBytes = toBytes(configuration);
    let ok = true;
    for (const vm of this.vms) if (!vm.configure()) ok = false;
    if (!ok) this.proc.configurationBytes = prev;
    return ok;
  }

  /** A new stream context on VM `vm` (default: round robin), on_context_create(id, root). */
  stream(vm?: number, properties?: Record<string, PropertyValue>): HttpStream {
    this.mustBeStarted();
    const i = vm ?? this.rr++ % this.vms.length;
    const v = this.vms[i];
    if (!v) throw new RangeError(`no VM ${i} (this host has ${this.vms.length})`);
    return openStream(v, properties);
  }

  /**
   * Advances the (settable) clock by `ms`, firing every due on_tick and http-call timeout in time
   * order with the clock set to the due time; ties go to the lower VM index, and a tick before a
   * timeout due at the same time.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): not a non-negative number`);
    const proc = this.proc;
    const clock = proc.clock;
    if (!isSettable(clock)) throw new Error('advance() needs a settable clock (e.g. ManualClock)');
    const target = clock.nowMs() + ms;
    for (;;) {
      let at = Infinity;
      let tickVm: Vm | undefined;
      if (!proc.realTimers) {
        for (const vm of this.vms) {
          if (vm.nextTickAt <= target && vm.nextTickAt < at && !vm.failed) {
            at = vm.nextTickAt;
            tickVm = vm;
          }
        }
      }
      let deadline = -1;
      for (let i = 0; i < proc.httpDeadlines.length; i++) {
        const t = proc.httpDeadlines[i]!;
        if (t.at <= target && t.at < at) {
          at = t.at;
          deadline = i;
          tickVm = undefined;
        }
      }
      if (at === Infinity) break;
      clock.set(Math.max(at, clock.nowMs()));
      if (deadline >= 0) proc.httpDeadlines.splice(deadline, 1)[0]!.fire();
      else tickVm!.fireTick();
    }
    clock.set(target);
  }

  /** Resolves once no proxy_http_call is outstanding. */
  whenIdle(): Promise<void> {
    return this.proc.whenIdle();
  }

  /** Value of the stat with this name (counter/gauge value; histogram: sum of records). */
  metric(name: string): bigint | undefined {
    return this.proc.metricsStore.find(name)?.value;
  }

  metrics(): Map<string, { type: MetricKind; value: bigint; count?: number }> {
    const out = new Map<string, { type: MetricKind; value: bigint; count?: number }>();
    for (const s of this.proc.metricsStore.all()) {
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
    this.proc.closed = true;
    for (const vm of this.vms) vm.clearTimer();
    this.proc.httpDeadlines = [];
  }

  private mustBeStarted(): void {
    if (!this.started) throw new Error('call ProxyWasmHost.start() first');
  }
}
