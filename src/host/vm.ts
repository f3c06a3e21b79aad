// One Vm = one Envoy worker thread's instance of the module: its own linear memory, globals, root
// context, context ids, tick timer and http-call tokens. It owns the mechanics cpp-host applies to
// every call into the guest:
//  * the "current" context of a callback and proxy_set_effective_context (scope: that callback);
//  * after-VM-call actions (continue_stream, send_local_response, close_stream) run only when the
//    callback has returned, in the order they were requested;
//  * restricted host calls while the module initialises or inside its allocator (Envoy's V8 traps);
//  * traps: any exception out of the guest marks the VM failed; Envoy's failure policy then applies
//    to every later stream on this VM (other VMs are unaffected).
// It knows streams only as GuestContexts (context.ts): ProxyWasmHost opens them and builds the
// imports, so that neither stream.ts nor imports.ts is imported here.
import { ALLOWED_DURING_ALLOC, ALLOWED_DURING_INIT, BufferType, MapType, Status } from './abi.ts';
import { HostTrap, type GuestContext, type HeaderMap, type RootGuestContext } from './context.ts';
import { GuestMemory } from './memory.ts';
import { VmMetrics } from './metrics.ts';
import { asciiLower, toBytes, utf8Encode } from './text.ts';
import type { HostProcess } from './process.ts';
import type { HeaderList, HttpCallResponse } from './types.ts';

const EMPTY_BYTES = new Uint8Array(0);

/** Vm.restrict: the restricted phase the guest is in, as bits so that a guard tests a set of them. */
export const Restrict = { NONE: 0, INIT: 1, ALLOC: 2 } as const;
const { NONE, INIT, ALLOC } = Restrict;

type F0 = () => unknown;
type F1 = (a: number) => number;
type F2 = (a: number, b: number) => number;
type F3 = (a: number, b: number, c: number) => number;
type F5 = (a: number, b: number, c: number, d: number, e: number) => number;

/** The guest's exported callbacks, resolved once (fixed shape for fast access). */
export interface GuestFns {
  malloc: F1 | undefined;
  initialize: F0 | undefined;
  start: F0 | undefined;
  main: F2 | undefined;
  onContextCreate: F2 | undefined;
  onVmStart: F2 | undefined;
  onConfigure: F2 | undefined;
  onTick: F1 | undefined;
  onDone: F1 | undefined;
  onLog: F1 | undefined;
  onDelete: F1 | undefined;
  onRequestHeaders: F3 | undefined;
  onRequestBody: F3 | undefined;
  onRequestTrailers: F2 | undefined;
  onResponseHeaders: F3 | undefined;
  onResponseBody: F3 | undefined;
  onResponseTrailers: F2 | undefined;
  onHttpCallResponse: F5 | undefined;
  onQueueReady: F2 | undefined;
}

/** Export name of each callback. */
const EXPORT_NAMES: Readonly<Record<keyof GuestFns, string>> = {
  malloc: 'malloc',
  initialize: '_initialize',
  start: '_start',
  main: 'main',
  onContextCreate: 'proxy_on_context_create',
  onVmStart: 'proxy_on_vm_start',
  onConfigure: 'proxy_on_configure',
  onTick: 'proxy_on_tick',
  onDone: 'proxy_on_done',
  onLog: 'proxy_on_log',
  onDelete: 'proxy_on_delete',
  onRequestHeaders: 'proxy_on_request_headers',
  onRequestBody: 'proxy_on_request_body',
  onRequestTrailers: 'proxy_on_request_trailers',
  onResponseHeaders: 'proxy_on_response_headers',
  onResponseBody: 'proxy_on_response_body',
  onResponseTrailers: 'proxy_on_response_trailers',
  onHttpCallResponse: 'proxy_on_http_call_response',
  onQueueReady: 'proxy_on_queue_ready',
};

function guestFns(x: WebAssembly.Exports): GuestFns {
  const fns = {} as Record<keyof GuestFns, unknown>;
  for (const key of Object.keys(EXPORT_NAMES) as (keyof GuestFns)[]) {
    const f = x[EXPORT_NAMES[key]];
    fns[key] = typeof f === 'function' ? f : undefined;
  }
  if (fns.malloc === undefined && typeof x.proxy_on_memory_allocate === 'function') fns.malloc = x.proxy_on_memory_allocate;
  return fns as GuestFns;
}

const NO_FNS = guestFns({});

/** The plugin's root context on one VM. */
export class RootContext implements RootGuestContext {
  readonly isRoot = true;
  readonly root: RootContext = this;
  readonly accessLog = false;
  constructor(
    readonly vm: Vm,
    readonly id: number,
  ) {}

  constMap(type: number): HeaderMap | null {
    const r = this.vm.httpCallResponse;
    if (type === MapType.HTTP_CALL_RESPONSE_HEADERS) return r ? r.headers : null;
    if (type === MapType.HTTP_CALL_RESPONSE_TRAILERS) return r ? r.trailers : null;
    return null;
  }
  mutMap(_type: number): HeaderMap | null {
    return null;
  }
  /** null = NOT_FOUND. Buffers Envoy backs with an absent instance read as empty. */
  getBuffer(type: number): Uint8Array | null {
    switch (type) {
      case BufferType.HTTP_CALL_RESPONSE_BODY:
        return this.vm.httpCallResponse?.body ?? null;
      case BufferType.VM_CONFIGURATION:
        return this.vm.proc.vmConfigurationBytes;
      case BufferType.PLUGIN_CONFIGURATION:
        return this.vm.pluginConfigFor === this ? this.vm.proc.configurationBytes : null;
      default:
        return EMPTY_BYTES;
    }
  }
  setBuffer(_type: number, _start: number, _len: number, _data: Uint8Array): number {
    return Status.BAD_ARGUMENT;
  }
}

export interface HttpCallResult {
  headers: HeaderMap;
  body: Uint8Array;
  trailers: HeaderMap;
}

export class Vm {
  readonly index: number;
  /** true once the guest trapped (or failed to start); Envoy's failure policy then applies. */
  failed = false;
  /** why the VM failed */
  failure: string | undefined;
  rootContextId = 0;
  /** proxy_set_tick_period_milliseconds of the root context (0 = off) */
  tickPeriodMs = 0;
  /** proxy_continue_stream calls that found nothing paused (root context or not-paused stream) */
  spuriousResumes = 0;
  exports: WebAssembly.Exports = {};

  /** @internal */ readonly proc: HostProcess;
  /** @internal */ readonly gm: GuestMemory;
  /** @internal */ readonly metrics: VmMetrics;
  /** @internal */ fns: GuestFns = NO_FNS;
  /** @internal */ readonly root: RootContext;
  /** @internal */ readonly contexts = new Map<number, GuestContext>();
  /** @internal the effective context for host calls (the callback's, or set_effective_context's) */
  eff: GuestContext | undefined;
  /** @internal */ depth = 0;
  /** @internal */ restrict: number = NONE;
  /** @internal send_local_response was called during the current callback */
  stopNext = false;
  /** @internal after-call actions, in the order they were requested */
  pending: (() => void)[] = [];
  /** @internal root context that may read PLUGIN_CONFIGURATION now */
  pluginConfigFor: RootContext | undefined;
  /** @internal */ nextTickAt = Infinity;
  /** @internal response being delivered to proxy_on_http_call_response */
  httpCallResponse: HttpCallResult | undefined;
  /** @internal proxy_get_status */
  callStatus: { code: number; message: string } = { code: 0, message: '' };
  /** @internal outstanding proxy_http_call tokens */
  readonly httpCalls = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextHttpCallId = 1;
  private nextContextId: number;

  constructor(proc: HostProcess, index: number, firstContextId: number) {
    this.proc = proc;
    this.index = index;
    this.nextContextId = firstContextId;
    this.gm = new GuestMemory((len) => this.allocate(len));
    this.metrics = new VmMetrics(proc.metricsStore);
    // cpp-host allocates the root context's id when the plugin starts on this VM: the first id.
    this.root = new RootContext(this, this.allocContextId());
    this.rootContextId = this.root.id;
    this.contexts.set(this.root.id, this.root);
  }

  memoryPages(): number {
    return this.gm.memory ? this.gm.memory.buffer.byteLength / 65536 : 0;
  }

  /** @internal */
  allocContextId(): number {
    for (;;) {
      const id = this.nextContextId >>> 0;
      this.nextContextId = (this.nextContextId + 1) >>> 0;
      if (id !== 0 && !this.contexts.has(id)) return id;
    }
  }

  // ---------------------------------------------------------------- start-up

  /** @internal instantiate, _initialize (or _start), root context, on_vm_start, on_configure. */
  start(module: WebAssembly.Module, imports: WebAssembly.Imports): boolean {
    if (!this.instantiate(module, imports)) return false;
    // cpp-host ContextBase::onStart: on_context_create(root, 0) (the plugin config is readable
    // here), then on_vm_start(root, vm_configuration_size).
    const root = this.root;
    if (this.fns.onContextCreate) {
      this.pluginConfigFor = root;
      this.call(this.fns.onContextCreate, root, 'proxy_on_context_create', root.id, 0);
      this.pluginConfigFor = undefined;
      this.afterCall();
    }
    if (this.failed) return false;
    if (this.fns.onVmStart) {
      const ok = this.call(this.fns.onVmStart, root, 'proxy_on_vm_start', root.id, this.proc.vmConfigurationBytes.length);
      this.afterCall();
      if (this.failed) return false;
      if (ok === 0) {
        this.proc.hostLog(this.index, 'error', 'proxy_on_vm_start returned false: Envoy fails to start the plugin');
        return false;
      }
    }
    return this.configure();
  }

  /** The instance, then the WASI reactor's _initialize and main(0, 0), or a command's _start. */
  private instantiate(module: WebAssembly.Module, imports: WebAssembly.Imports): boolean {
    let instance: WebAssembly.Instance;
    this.restrict = INIT;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (e) {
      this.restrict = NONE;
      this.trap(e, 'instantiate');
      return false;
    }
    this.exports = instance.exports;
    this.fns = guestFns(instance.exports);
    this.gm.attach(instance.exports.memory as WebAssembly.Memory);
    const fns = this.fns;
    try {
      if (fns.initialize) {
        fns.initialize();
        if (fns.main) fns.main(0, 0);
      } else if (fns.start) {
        fns.start();
      }
    } catch (e) {
      this.trap(e, fns.initialize ? '_initialize' : '_start');
    } finally {
      this.restrict = NONE;
    }
    return !this.failed;
  }

  /** @internal proxy_on_configure(root, size) with the host's current plugin configuration. */
  configure(): boolean {
    if (this.failed) return true; // cpp-host onConfigure: a failed VM "accepts"
    if (!this.fns.onConfigure) return true;
    this.pluginConfigFor = this.root;
    const ok = this.call(this.fns.onConfigure, this.root, 'proxy_on_configure', this.root.id, this.proc.configurationBytes.length);
    this.pluginConfigFor = undefined;
    this.afterCall();
    if (this.failed) return false;
    return ok !== 0;
  }

  // ---------------------------------------------------------------- calls into the guest

  private enter(ctx: GuestContext, where: string): void {
    if (this.depth !== 0) {
      throw new Error(`re-entrant call into VM ${this.index} (${where}) from inside a host callback`);
    }
    this.depth = 1;
    this.eff = ctx;
    this.stopNext = false;
  }
  private leave(): void {
    this.depth = 0;
    this.eff = undefined;
  }

  /**
   * @internal Calls a context callback of up to five i32 arguments (a callback of fewer ignores
   * the rest); after a trap returns -1 with `failed` set.
   */
  call(fn: F5, ctx: GuestContext, where: string, a: number, b = 0, c = 0, d = 0, e = 0): number {
    this.enter(ctx, where);
    let r: number;
    try {
      r = fn(a, b, c, d, e);
    } catch (err) {
      r = -1;
      this.trap(err, where);
    }
    this.leave();
    return r;
  }

  /**
   * Test helper (not an Envoy entry point): calls any guest export with the root context as the
   * current context, like a callback, then runs the after-call actions. undefined after a trap.
   */
  invoke(name: string, ...args: (number | bigint)[]): number | bigint | undefined {
    return this.invokeIn(this.root, name, args);
  }

  /** @internal */
  invokeIn(ctx: GuestContext, name: string, args: (number | bigint)[]): number | bigint | undefined {
    if (this.failed) throw new Error(`VM ${this.index} has failed: ${this.failure}`);
    const fn = this.exports[name];
    if (typeof fn !== 'function') throw new Error(`the module exports no function ${name}`);
    this.enter(ctx, name);
    let r: number | bigint | undefined;
    try {
      r = (fn as (...a: (number | bigint)[]) => number | bigint | undefined)(...args);
    } catch (e) {
      this.trap(e, name);
    }
    this.leave();
    this.afterCall();
    return this.failed ? undefined : r;
  }

  /** @internal The guest allocator, restricted as in cpp-host. Exceptions propagate (trap). */
  allocate(len: number): number {
    const fn = this.fns.malloc;
    if (!fn) return 0;
    const prev = this.restrict;
    this.restrict = ALLOC;
    try {
      return fn(len);
    } finally {
      this.restrict = prev;
    }
  }

  /** @internal Called by host functions while restrict !== NONE; traps a disallowed call. */
  restricted(name: string): void {
    const allowed = this.restrict === INIT ? ALLOWED_DURING_INIT : ALLOWED_DURING_ALLOC;
    if (allowed.has(name)) return;
    const when = this.restrict === INIT ? 'while the module initialises' : 'inside the allocator';
    throw new HostTrap(`restricted_callback: ${name} called ${when} (Envoy's V8 runtime traps this)`);
  }

  /** @internal */
  trap(e: unknown, where: string): void {
    if (this.failed) return;
    this.failed = true;
    const err = e instanceof Error ? e : new Error(String(e));
    const hostBug =
      err instanceof WebAssembly.RuntimeError || err instanceof HostTrap || err instanceof WebAssembly.LinkError
        ? ''
        : ' (a JS exception, not a wasm trap: a host bug?)';
    this.failure = `${where}: ${err.name}: ${err.message}${hostBug}`;
    this.proc.hostLog(
      this.index,
      'critical',
      `wasm VM ${this.index} failed in ${this.failure}${hostBug ? `\n${err.stack ?? ''}` : ''}`,
    );
    this.pending = [];
    this.clearTimer();
  }

  // ---------------------------------------------------------------- after-VM-call actions

  /** @internal An action to run once the callback has returned (continue, local reply, close). */
  defer(action: () => void): void {
    this.pending.push(action);
  }

  /** @internal Runs deferred actions once no callback is running (cpp-host DeferAfterCallActions). */
  afterCall(): void {
    while (this.depth === 0 && this.pending.length !== 0 && !this.failed) {
      const list = this.pending;
      this.pending = [];
      for (let i = 0; i < list.length && !this.failed; i++) list[i]!();
    }
  }

  // ---------------------------------------------------------------- ticks

  /** @internal proxy_set_tick_period_milliseconds: re-arms from now (Envoy Wasm::setTickPeriod). */
  setTickPeriod(ms: number): void {
    this.tickPeriodMs = ms;
    this.nextTickAt = ms > 0 ? this.proc.clock.nowMs() + ms : Infinity;
    if (!this.proc.realTimers || this.proc.closed) return;
    this.clearTimer();
    if (ms > 0 && !this.failed) this.armTimer();
  }

  /** A real timer for the next tick (HostOptions.realTimers). */
  private armTimer(): void {
    const t = setTimeout(() => {
      this.timer = undefined;
      if (this.proc.closed) return;
      this.fireTick();
      // fireTick may have re-armed through proxy_set_tick_period_milliseconds
      if (this.timer === undefined && this.tickPeriodMs > 0 && !this.failed && !this.proc.closed) this.armTimer();
    }, this.tickPeriodMs);
    t.unref?.();
    this.timer = t;
  }

  /** @internal */
  fireTick(): void {
    if (!this.failed && this.fns.onTick) {
      this.call(this.fns.onTick, this.root, 'proxy_on_tick', this.root.id);
      this.afterCall();
    }
    // Envoy re-arms the timer after the tick: next = now + period.
    this.nextTickAt = this.tickPeriodMs > 0 && !this.failed ? this.proc.clock.nowMs() + this.tickPeriodMs : Infinity;
  }

  /** @internal */
  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---------------------------------------------------------------- http calls

  /** @internal proxy_http_call: returns [status, token]. */
  httpCall(cluster: string, headers: HeaderMap, body: Uint8Array, trailers: HeaderMap, timeoutMs: number): [number, number] {
    if (timeoutMs < 0) return [Status.BAD_ARGUMENT, 0];
    const handler = this.proc.httpCallHandler;
    if (!handler) return [Status.BAD_ARGUMENT, 0]; // no cluster of that name
    const has = (k: string) => headers.some((h) => h[0] === k);
    if (!has(':path') || !has(':method') || !has(':authority')) return [Status.BAD_ARGUMENT, 0];
    let token = this.nextHttpCallId++ >>> 0;
    while (token === 0 || this.httpCalls.has(token)) token = this.nextHttpCallId++ >>> 0;
    const deadline = timeoutMs > 0 ? this.proc.clock.nowMs() + timeoutMs : Infinity;
    this.httpCalls.add(token);
    this.proc.httpCallStarted(deadline, () => this.timeoutHttpCall(token));
    const request = { cluster, headers: headers.map((h) => [h[0], h[1]] as [string, string]), body, trailers, timeoutMs };
    Promise.resolve()
      .then(() => handler(this.index, request))
      .then(
        (resp) => this.deliverHttpCall(token, resp ?? null),
        (err: unknown) => {
          this.proc.hostLog(this.index, 'warn', `httpCallHandler failed for call ${token}: ${String(err)}`);
          this.deliverHttpCall(token, null);
        },
      );
    return [Status.OK, token];
  }

  /** @internal Delivers a response (null = failure/reset) to proxy_on_http_call_response on the root. */
  deliverHttpCall(token: number, resp: HttpCallResponse | null): void {
    if (!this.httpCalls.delete(token)) return; // already answered (timeout)
    this.proc.httpCallFinished();
    if (this.failed || !this.fns.onHttpCallResponse) return;
    if (this.depth !== 0) throw new Error('http call response delivered during a callback');
    const lower = (l: HeaderList | undefined): HeaderMap => (l ?? []).map((h) => [asciiLower(h[0]), h[1]]);
    if (resp) {
      this.httpCallResponse = { headers: lower(resp.headers), body: toBytes(resp.body ?? EMPTY_BYTES), trailers: lower(resp.trailers) };
      this.callStatus = { code: 0, message: '' };
    } else {
      this.httpCallResponse = undefined;
      this.callStatus = { code: Status.BROKEN_CONNECTION, message: 'reset' };
    }
    const r = this.httpCallResponse;
    const root = this.root;
    const sizes = r ? [r.headers.length, r.body.length, r.trailers.length] : [0, 0, 0];
    this.call(this.fns.onHttpCallResponse, root, 'proxy_on_http_call_response', root.id, token, sizes[0], sizes[1], sizes[2]);
    this.afterCall();
    this.httpCallResponse = undefined;
    this.callStatus = { code: 0, message: '' };
  }

  /** @internal An Envoy async-client timeout answers 504 "upstream request timeout". */
  timeoutHttpCall(token: number): void {
    const body = utf8Encode('upstream request timeout');
    this.deliverHttpCall(token, {
      headers: [
        [':status', '504'],
        ['content-length', String(body.length)],
        ['content-type', 'text/plain'],
      ],
      body,
    });
  }

  /** @internal proxy_on_queue_ready for a queue this VM's root registered. */
  queueReady(token: number): void {
    if (this.failed || !this.fns.onQueueReady || this.depth !== 0) return;
    this.call(this.fns.onQueueReady, this.root, 'proxy_on_queue_ready', this.root.id, token);
    this.afterCall();
  }
}
