// One Vm = one Envoy worker thread's instance of the module: its own linear memory, globals, root
// context, context ids, tick timer and http-call tokens. It owns the mechanics cpp-host applies to
// every call into the guest:
//  * the "current" context of a callback and proxy_set_effective_context (scope: that callback);
//  * after-VM-call actions (continue_stream, send_local_response, close_stream) run only when the
//    callback has returned, in the order they were requested;
//  * restricted host calls while the module initialises or inside its allocator (Envoy's V8 traps);
//  * traps: any exception out of the guest marks the VM failed; Envoy's failure policy then applies
//    to every later stream on this VM (other VMs are unaffected).
import {
  ALLOWED_DURING_ALLOC,
  ALLOWED_DURING_INIT,
  BufferType,
  MapType,
  Status,
} from './abi.ts';
import { GuestMemory } from './memory.ts';
import { VmMetrics } from './metrics.ts';
import { createImports } from './imports.ts';
import { HttpStream } from './stream.ts';
import { asciiLower, toBytes, utf8Encode } from './text.ts';
import type { ProxyWasmHost } from './host.ts';
import type { HeaderList, HttpCallResponse, LocalResponse, PropertyValue } from './types.ts';

/** A mutable header map: the stream's live list of [lower-case name, value] byte strings. */
export type HeaderMap = [string, string][];

const EMPTY_BYTES = new Uint8Array(0);

/** Thrown from host functions to trap the guest (Envoy: V8 trap "restricted_callback", proc_exit). */
export class HostTrap extends Error {
  override name = 'HostTrap';
}

const NONE = 0;
const INIT = 1;
const ALLOC = 2;

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

const NO_FNS: GuestFns = {
  malloc: undefined,
  initialize: undefined,
  start: undefined,
  main: undefined,
  onContextCreate: undefined,
  onVmStart: undefined,
  onConfigure: undefined,
  onTick: undefined,
  onDone: undefined,
  onLog: undefined,
  onDelete: undefined,
  onRequestHeaders: undefined,
  onRequestBody: undefined,
  onRequestTrailers: undefined,
  onResponseHeaders: undefined,
  onResponseBody: undefined,
  onResponseTrailers: undefined,
  onHttpCallResponse: undefined,
  onQueueReady: undefined,
};

/** The plugin's root context on one VM. */
export class RootContext {
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
        return this.vm.host.vmConfigurationBytes;
      case BufferType.PLUGIN_CONFIGURATION:
        return this.vm.pluginConfigFor === this ? this.vm.host.configurationBytes : null;
      default:
        return EMPTY_BYTES;
    }
  }
  setBuffer(_type: number, _start: number, _len: number, _data: Uint8Array): number {
    return Status.BAD_ARGUMENT;
  }
}

export type Context = RootContext | HttpStream;

interface HttpCallState {
  token: number;
  deadline: number;
}
export interface HttpCallResult {
  headers: HeaderMap;
  body: Uint8Array;
  trailers: HeaderMap;
}

type Deferred =
  | { kind: 'continue'; stream: HttpStream; dir: 'request' | 'response' }
  | { kind: 'local'; stream: HttpStream; reply: LocalResponse }
  | { kind: 'close'; stream: HttpStream };

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

  /** @internal */ readonly host: ProxyWasmHost;
  /** @internal */ readonly gm: GuestMemory;
  /** @internal */ readonly metrics: VmMetrics;
  /** @internal */ fns: GuestFns = NO_FNS;
  /** @internal */ readonly root: RootContext;
  /** @internal */ readonly contexts = new Map<number, Context>();
  /** @internal the context whose callback runs, and the effective context for host calls */
  cur: Context | undefined;
  /** @internal */ eff: Context | undefined;
  /** @internal */ depth = 0;
  /** @internal */ restrict = NONE;
  /** @internal send_local_response was called during the current callback */
  stopNext = false;
  /** @internal */ pending: Deferred[] = [];
  /** @internal root context that may read PLUGIN_CONFIGURATION now */
  pluginConfigFor: RootContext | undefined;
  /** @internal */ nextTickAt = Infinity;
  /** @internal */ timer: ReturnType<typeof setTimeout> | undefined;
  /** @internal response being delivered to proxy_on_http_call_response */
  httpCallResponse: HttpCallResult | undefined;
  /** @internal proxy_get_status */
  callStatus: { code: number; message: string } = { code: 0, message: '' };
  /** @internal */ readonly httpCalls = new Map<number, HttpCallState>();
  private nextHttpCallId = 1;
  private nextContextId: number;

  constructor(host: ProxyWasmHost, index: number, firstContextId: number) {
    this.host = host;
    this.index = index;
    this.nextContextId = firstContextId;
    this.gm = new GuestMemory((len) => this.allocate(len));
    this.metrics = new VmMetrics(host.metricsStore);
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
  start(module: WebAssembly.Module): boolean {
    let instance: WebAssembly.Instance;
    this.restrict = INIT;
    try {
      instance = new WebAssembly.Instance(module, createImports(this));
    } catch (e) {
      this.restrict = NONE;
      this.trap(e, 'instantiate');
      return false;
    }
    const x = (this.exports = instance.exports);
    const f = <T>(name: string) => (typeof x[name] === 'function' ? (x[name] as T) : undefined);
    this.fns = {
      malloc: f<F1>('malloc') ?? f<F1>('proxy_on_memory_allocate'),
      initialize: f<F0>('_initialize'),
      start: f<F0>('_start'),
      main: f<F2>('main'),
      onContextCreate: f<F2>('proxy_on_context_create'),
      onVmStart: f<F2>('proxy_on_vm_start'),
      onConfigure: f<F2>('proxy_on_configure'),
      onTick: f<F1>('proxy_on_tick'),
      onDone: f<F1>('proxy_on_done'),
      onLog: f<F1>('proxy_on_log'),
      onDelete: f<F1>('proxy_on_delete'),
      onRequestHeaders: f<F3>('proxy_on_request_headers'),
      onRequestBody: f<F3>('proxy_on_request_body'),
      onRequestTrailers: f<F2>('proxy_on_request_trailers'),
      onResponseHeaders: f<F3>('proxy_on_response_headers'),
      onResponseBody: f<F3>('proxy_on_response_body'),
      onResponseTrailers: f<F2>('proxy_on_response_trailers'),
      onHttpCallResponse: f<F5>('proxy_on_http_call_response'),
      onQueueReady: f<F2>('proxy_on_queue_ready'),
    };
    this.gm.attach(x.memory as WebAssembly.Memory);

    // WASI reactor: _initialize then main(0, 0) if exported; a command: _start.
    try {
      if (this.fns.initialize) {
        this.fns.initialize();
        if (this.fns.main) this.fns.main(0, 0);
      } else if (this.fns.start) {
        this.fns.start();
      }
    } catch (e) {
      this.trap(e, this.fns.initialize ? '_initialize' : '_start');
    } finally {
      this.restrict = NONE;
    }
    if (this.failed) return false;

    // cpp-host ContextBase::onStart: on_context_create(root, 0) (the plugin config is readable
    // here), then on_vm_start(root, vm_configuration_size).
    if (this.fns.onContextCreate) {
      this.pluginConfigFor = this.root;
      this.call2(this.fns.onContextCreate, this.root, 'proxy_on_context_create', this.root.id, 0);
      this.pluginConfigFor = undefined;
      this.afterCall();
    }
    if (this.failed) return false;
    if (this.fns.onVmStart) {
      const ok = this.call2(this.fns.onVmStart, this.root, 'proxy_on_vm_start', this.root.id, this.host.vmConfigurationBytes.length);
      this.afterCall();
      if (this.failed) return false;
      if (ok === 0) {
        this.host.hostLog(this.index, 'error', 'proxy_on_vm_start returned false: Envoy fails to start the plugin');
        return false;
      }
    }
    return this.configure();
  }

  /** @internal proxy_on_configure(root, size) with the host's current plugin configuration. */
  configure(): boolean {
    if (this.failed) return true; // cpp-host onConfigure: a failed VM "accepts"
    if (!this.fns.onConfigure) return true;
    this.pluginConfigFor = this.root;
    const ok = this.call2(this.fns.onConfigure, this.root, 'proxy_on_configure', this.root.id, this.host.configurationBytes.length);
    this.pluginConfigFor = undefined;
    this.afterCall();
    if (this.failed) return false;
    return ok !== 0;
  }

  // ---------------------------------------------------------------- calls into the guest

  private enter(ctx: Context, where: string): void {
    if (this.depth !== 0) {
      throw new Error(`re-entrant call into VM ${this.index} (${where}) from inside a host callback`);
    }
    this.depth = 1;
    this.cur = ctx;
    this.eff = ctx;
    this.stopNext = false;
  }
  private leave(): void {
    this.depth = 0;
    this.cur = undefined;
    this.eff = undefined;
  }

  /** @internal Calls a context callback; after a trap returns -1 with `failed` set. */
  call1(fn: F1, ctx: Context, where: string, a: number): number {
    this.enter(ctx, where);
    let r: number;
    try {
      r = fn(a);
    } catch (e) {
      r = -1;
      this.trap(e, where);
    }
    this.leave();
    return r;
  }
  /** @internal */
  call2(fn: F2, ctx: Context, where: string, a: number, b: number): number {
    this.enter(ctx, where);
    let r: number;
    try {
      r = fn(a, b);
    } catch (e) {
      r = -1;
      this.trap(e, where);
    }
    this.leave();
    return r;
  }
  /** @internal */
  call3(fn: F3, ctx: Context, where: string, a: number, b: number, c: number): number {
    this.enter(ctx, where);
    let r: number;
    try {
      r = fn(a, b, c);
    } catch (e) {
      r = -1;
      this.trap(e, where);
    }
    this.leave();
    return r;
  }
  /** @internal */
  call5(fn: F5, ctx: Context, where: string, a: number, b: number, c: number, d: number, e: number): number {
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
  invokeIn(ctx: Context, name: string, args: (number | bigint)[]): number | bigint | undefined {
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
    const kind =
      err instanceof WebAssembly.RuntimeError || err instanceof HostTrap || err instanceof WebAssembly.LinkError
        ? ''
        : ' (a JS exception, not a wasm trap: a host bug?)';
    this.failure = `${where}: ${err.name}: ${err.message}${kind}`;
    this.host.hostLog(
      this.index,
      'critical',
      `wasm VM ${this.index} failed in ${this.failure}${kind ? `\n${err.stack ?? ''}` : ''}`,
    );
    this.pending = [];
    this.clearTimer();
  }

  // ---------------------------------------------------------------- after-VM-call actions

  /** @internal */
  defer(a: Deferred): void {
    this.pending.push(a);
  }

  /** @internal Runs deferred actions once no callback is running (cpp-host DeferAfterCallActions). */
  afterCall(): void {
    while (this.depth === 0 && this.pending.length !== 0 && !this.failed) {
      const list = this.pending;
      this.pending = [];
      for (let i = 0; i < list.length && !this.failed; i++) {
        const a = list[i]!;
        if (a.kind === 'continue') a.stream.deliverContinue(a.dir);
        else if (a.kind === 'local') a.stream.deliverLocalResponse(a.reply);
        else a.stream.deliverClose();
      }
    }
  }

  // ---------------------------------------------------------------- streams

  /** @internal */
  newStream(props: Record<string, PropertyValue> | undefined): HttpStream {
    const s = new HttpStream(this, this.allocContextId(), props);
    this.contexts.set(s.id, s);
    s.create();
    return s;
  }

  // ---------------------------------------------------------------- ticks

  /** @internal proxy_set_tick_period_milliseconds: re-arms from now (Envoy Wasm::setTickPeriod). */
  setTickPeriod(ms: number): void {
    this.tickPeriodMs = ms;
    this.nextTickAt = ms > 0 ? this.host.clock.nowMs() + ms : Infinity;
    this.host.tickPeriodChanged(this);
  }

  /** @internal */
  fireTick(): void {
    if (!this.failed && this.fns.onTick) {
      this.call1(this.fns.onTick, this.root, 'proxy_on_tick', this.root.id);
      this.afterCall();
    }
    // Envoy re-arms the timer after the tick: next = now + period.
    this.nextTickAt = this.tickPeriodMs > 0 && !this.failed ? this.host.clock.nowMs() + this.tickPeriodMs : Infinity;
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
    const handler = this.host.httpCallHandler;
    if (!handler) return [Status.BAD_ARGUMENT, 0]; // no cluster of that name
    const has = (k: string) => headers.some((h) => h[0] === k);
    if (!has(':path') || !has(':method') || !has(':authority')) return [Status.BAD_ARGUMENT, 0];
    let token = this.nextHttpCallId++ >>> 0;
    while (token === 0 || this.httpCalls.has(token)) token = this.nextHttpCallId++ >>> 0;
    const deadline = timeoutMs > 0 ? this.host.clock.nowMs() + timeoutMs : Infinity;
    this.httpCalls.set(token, { token, deadline });
    this.host.httpCallStarted(this, token, deadline);
    const request = { cluster, headers: headers.map((h) => [h[0], h[1]] as [string, string]), body, trailers, timeoutMs };
    Promise.resolve()
      .then(() => handler(this.index, request))
      .then(
        (resp) => this.deliverHttpCall(token, resp ?? null),
        (err: unknown) => {
          this.host.hostLog(this.index, 'warn', `httpCallHandler failed for call ${token}: ${String(err)}`);
          this.deliverHttpCall(token, null);
        },
      );
    return [Status.OK, token];
  }

  /** @internal Delivers a response (null = failure/reset) to proxy_on_http_call_response on the root. */
  deliverHttpCall(token: number, resp: HttpCallResponse | null): void {
    if (!this.httpCalls.delete(token)) return; // already answered (timeout)
    this.host.httpCallFinished();
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
    this.call5(
      this.fns.onHttpCallResponse,
      this.root,
      'proxy_on_http_call_response',
      this.root.id,
      token,
      r ? r.headers.length : 0,
      r ? r.body.length : 0,
      r ? r.trailers.length : 0,
    );
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
    this.call2(this.fns.onQueueReady, this.root, 'proxy_on_queue_ready', this.root.id, token);
    this.afterCall();
  }
}
