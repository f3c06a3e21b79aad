// The context model: one RootContext per plugin configuration per VM, one StreamContext per HTTP
// stream. Subclass both, then call `setRootContextFactory` from the entry file. Contexts are
// found by id in an open-addressing table, so the request path does not allocate for bookkeeping.
import { setEffectiveContext } from "./host";

export class StreamContext {
  id: u32 = 0;
  /** Request headers arrived. Return Action.CONTINUE or Action.PAUSE. */
  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 { return 0; }
  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 { return 0; }
  /** Envoy calls on_log first, then on_delete; a stream may see only log. (The module exports no
   *  proxy_on_done: without it the host counts a stream done at once, and spares a callback per
   *  stream — cpp-host ContextBase::onDone.) */
  onLog(): void {}
  /** Last callback for this stream; the context is forgotten afterwards. */
  onDelete(): void {}
  /** Makes this stream the target of stream calls (continue, local reply) made from outside its
   *  own callbacks: a tick, another context's callout answer. No host call when it already is. */
  makeEffective(): void { setEffectiveContext(this.id); }
}

export class RootContext {
  id: u32 = 0;
  onVmStart(vmConfigurationSize: usize): bool { return true; }
  onConfigure(configurationSize: usize): bool { return true; }
  /** Whether its last on_configure left garbage worth sweeping at once (else: on the schedule). */
  leftGarbage: bool = true;
  onTick(): void {}
  /** Returns the context for a new stream (may come from a pool). */
  newStream(id: u32): StreamContext { return new StreamContext(); }
  /** The stream was deleted; it may be reused for a later stream. */
  releaseStream(stream: StreamContext): void {}
}

/** u32 id → object, linear probing with backward-shift deletion. Capacity is a power of two. */
export class IdTable<T> {
  private keys: StaticArray<u32>;
  private values: StaticArray<T | null>;
  private count: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.keys = new StaticArray<u32>(capacity);
    this.values = new StaticArray<T | null>(capacity);
  }

  @inline private slot(id: u32, mask: i32): i32 { return <i32>((id * 0x9E3779B1) >>> 16) & mask; }

  get(id: u32): T | null {
    const mask = this.keys.length - 1;
    let i = this.slot(id, mask);
    while (true) {
      const k = unchecked(this.keys[i]);
      if (k == id) return unchecked(this.values[i]);
      if (k == 0) return null;
      i = (i + 1) & mask;
    }
  }

  set(id: u32, value: T): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = this.slot(id, mask);
    while (true) {
      const k = unchecked(this.keys[i]);
      if (k == id) { unchecked(this.values[i] = value); return; }
      if (k == 0) {
        unchecked(this.keys[i] = id);
        unchecked(this.values[i] = value);
        this.count++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  delete(id: u32): void {
    const mask = this.keys.length - 1;
    let i = this.slot(id, mask);
    while (true) {
      const k = unchecked(this.keys[i]);
      if (k == 0) return;
      if (k == id) break;
      i = (i + 1) & mask;
    }
    // Backward-shift: move later entries of the same probe run into the hole.
    let hole = i;
    let j = (i + 1) & mask;
    while (true) {
      const k = unchecked(this.keys[j]);
      if (k == 0) break;
      const home = this.slot(k, mask);
      const between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!between) {
        unchecked(this.keys[hole] = k);
        unchecked(this.values[hole] = this.values[j]);
        hole = j;
      }
      j = (j + 1) & mask;
    }
    unchecked(this.keys[hole] = 0);
    unchecked(this.values[hole] = null);
    this.count--;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new StaticArray<u32>(oldKeys.length * 2);
    this.values = new StaticArray<T | null>(oldKeys.length * 2);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = unchecked(oldKeys[i]);
      if (k != 0) this.set(k, changetype<T>(unchecked(oldValues[i])));
    }
  }
}

type RootFactory = (id: u32) => RootContext;
let rootFactory: RootFactory | null = null;

export function setRootContextFactory(factory: RootFactory): void { rootFactory = factory; }
export function createRoot(id: u32): RootContext | null {
  const f = rootFactory;
  if (f === null) return null;
  return f(id);
}
