// The callbacks Envoy calls (proxy-wasm ABI 0.2.1). Each resets the host-result arena, notes the
// context it runs for (the effective context), finds the context by id and forwards to it. Unknown
// ids are ignored rather than trapping: a trap would fail the whole worker VM.
import { RootContext, StreamContext, IdTable, createRoot } from "./context";
import { resetArena } from "./memory";
import { Action } from "./enums";
import { enterCallback } from "./host";
import { deliverHttpCallResponse } from "./callouts";

/** Every callback starts here: earlier host results are dead, and stream calls go to `contextId`. */
@inline function enter(contextId: u32): void {
  resetArena();
  enterCallback(contextId);
}

// The module is built with AssemblyScript's minimal runtime: no shadow stack and no collection
// inside an allocation, so garbage is swept only here, when a callback that may allocate ends and no
// local holds an object any more. A configure that leaves garbage (RootContext.leftGarbage: sergo's
// reload leaves the whole configuration it replaced, most of the garbage the module ever makes) is
// swept at once; a first configuration is not (its decoder's tape is freed as decoding ends, and the
// build's temporary tables wait for the first scheduled sweep: a sweep visits every live object,
// ~16 ms for 10,000 rules). Elsewhere garbage is rare (the request path allocates nothing):
// the heap is swept when it grew, and every CALLBACKS_PER_PAGE callbacks per page of memory, which
// bounds what a steady trickle of garbage can pile up (growth alone would not: the allocator doubles
// the heap when it grows). A sweep costs in proportion to the heap, so spacing sweeps in proportion
// to it keeps their cost per request the same for 10 rules as for 10,000 (a fixed interval made a
// request 5× dearer with 10,000 rules).
const CALLBACKS_PER_PAGE = 128;
let pagesAtLastCollect: i32 = 0;
let callbacksUntilCollect: i32 = 0;
function collect(): void {
  __collect();
  scheduleCollect();
}
function scheduleCollect(): void {
  pagesAtLastCollect = memory.size();
  callbacksUntilCollect = pagesAtLastCollect * CALLBACKS_PER_PAGE;
}
@inline function leave(): void {
  if (memory.size() != pagesAtLastCollect || --callbacksUntilCollect <= 0) collect();
}

const roots = new IdTable<RootContext>(8);
const streams = new IdTable<StreamContext>(256);
const streamRoots = new IdTable<RootContext>(256);

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  enter(contextId);
  createContext(contextId, parentId);
  leave();
}

function createContext(contextId: u32, parentId: u32): void {
  if (parentId == 0) {
    const root = createRoot(contextId);
    if (root === null) return;
    root.id = contextId;
    roots.set(contextId, root);
    return;
  }
  const root = roots.get(parentId);
  if (root === null) return;
  const stream = root.newStream(contextId);
  stream.id = contextId;
  streams.set(contextId, stream);
  streamRoots.set(contextId, root);
}

export function proxy_on_vm_start(rootId: u32, vmConfigurationSize: usize): bool {
  enter(rootId);
  const root = roots.get(rootId);
  const started = root === null ? true : root.onVmStart(vmConfigurationSize);
  leave();
  return started;
}

export function proxy_on_configure(rootId: u32, configurationSize: usize): bool {
  enter(rootId);
  const root = roots.get(rootId);
  const accepted = root === null ? false : root.onConfigure(configurationSize);
  if (root === null || root.leftGarbage) collect(); else scheduleCollect();
  return accepted;
}

export function proxy_on_tick(rootId: u32): void {
  enter(rootId);
  const root = roots.get(rootId);
  if (root !== null) root.onTick();
  leave();
}

export function proxy_on_http_call_response(rootId: u32, token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
  enter(rootId);
  deliverHttpCallResponse(token, headerCount, bodySize, trailerCount);
  leave();
}

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  enter(contextId);
  const stream = streams.get(contextId);
  return stream === null ? Action.CONTINUE : stream.onRequestHeaders(headerCount, endOfStream);
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  enter(contextId);
  const stream = streams.get(contextId);
  return stream === null ? Action.CONTINUE : stream.onResponseHeaders(headerCount, endOfStream);
}

export function proxy_on_log(contextId: u32): void {
  enter(contextId);
  const stream = streams.get(contextId);
  if (stream !== null) stream.onLog();
}

export function proxy_on_delete(contextId: u32): void {
  enter(contextId);
  deleteContext(contextId);
  leave();
}

function deleteContext(contextId: u32): void {
  const stream = streams.get(contextId);
  if (stream === null) {
    roots.delete(contextId);
    return;
  }
  stream.onDelete();
  streams.delete(contextId);
  const root = streamRoots.get(contextId);
  streamRoots.delete(contextId);
  if (root !== null) root.releaseStream(stream);
}
