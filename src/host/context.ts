// What the host's layers share, so that none of them imports another for a type: the trap host
// functions throw, the live header map, and what a host function may ask of the context it runs
// for (the root context of a VM, or an HTTP stream). vm.ts, stream.ts and imports.ts depend on
// this module; it depends on none of them.
import type { StreamInfoView } from './properties.ts';
import type { LocalResponse } from './types.ts';

/** A mutable header map: the stream's live list of [lower-case name, value] byte strings. */
export type HeaderMap = [string, string][];

/** Thrown from host functions to trap the guest (Envoy: V8 trap "restricted_callback", proc_exit). */
export class HostTrap extends Error {
  override name = 'HostTrap';
}

export type Direction = 'request' | 'response';

/** What every context answers: header maps and buffers by their ABI type (MapType, BufferType). */
interface ContextMaps {
  readonly id: number;
  /** in on_log: a missing header map is NOT_FOUND rather than BAD_ARGUMENT */
  readonly accessLog: boolean;
  /** a map to read (get_header_map_value/pairs); null: none now */
  constMap(type: number): HeaderMap | null;
  /** a map to change (add/replace/remove/set_header_map_pairs, get_header_map_size); null: none now */
  mutMap(type: number): HeaderMap | null;
  /** null = NOT_FOUND */
  getBuffer(type: number): Uint8Array | null;
  /** proxy_set_buffer_bytes: a Status */
  setBuffer(type: number, start: number, len: number, data: Uint8Array): number;
}

/** A VM's root context. */
export interface RootGuestContext extends ContextMaps {
  readonly isRoot: true;
}

/** An HTTP stream, as host functions see it: its deferred actions are requested, not run. */
export interface StreamGuestContext extends ContextMaps, StreamInfoView {
  readonly isRoot: false;
  /** the request is gRPC: a local reply goes out as Envoy sends one to a gRPC client */
  readonly grpcRequest: boolean;
  continueRequested(dir: Direction): void;
  closeRequested(): void;
  localRequested(reply: LocalResponse): void;
}

export type GuestContext = RootGuestContext | StreamGuestContext;
