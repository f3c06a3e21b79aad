// One Envoy's xDS stream (state of the world): what it asked for, what it was sent, what it ACKed or
// NACKed. Requests follow the xDS protocol: a request carrying the nonce of our latest response is
// that response's ACK, or its NACK when it has error_detail; a request with an older nonce is stale
// and ignored; a changed resource_names list is a new subscription (answered at once).
import type * as grpc from '@grpc/grpc-js';
import { digest } from './resource.ts';
import { TYPED_EXTENSION_CONFIG_TYPE, type AnyObject, type WireDiscoveryRequest, type WireDiscoveryResponse, type WireNode } from './protos.ts';

export type XdsCall = grpc.ServerDuplexStream<WireDiscoveryRequest, WireDiscoveryResponse>;

/** The resources one stream is to run, rendered by the hub (the stream cannot know its rank). */
export interface Rendered {
  resources: AnyObject[];
  /** name → version of each resource sent */
  versions: Map<string, string>;
}

export interface Sent {
  nonce: string;
  /** version_info: the resource's version (one name), or a digest of all of them */
  version: string;
  versions: Map<string, string>;
  at: number;
}

export interface Nack {
  version: string;
  message: string;
  at: number;
}

export interface StreamEvents {
  /** The subscription changed (first request included): the hub re-renders and may re-rank others. */
  subscribed(stream: NodeStream, before: readonly string[]): void;
  acked(stream: NodeStream, sent: Sent): void;
  nacked(stream: NodeStream, sent: Sent, nack: Nack): void;
  closed(stream: NodeStream): void;
}

export class NodeStream {
  node: WireNode = {};
  names: string[] = [];
  sent: Sent | undefined;
  acked: Sent | undefined;
  lastNack: Nack | undefined;
  /** The version_info of the stream's first request: what a reconnecting Envoy already runs. */
  versionAtConnect: string | undefined;
  closed = false;
  readonly connectedAt = Date.now();
  private nonce = 0;
  /** Types other than ECDS already answered (empty), so they do not wait on us. */
  private readonly otherTypes = new Set<string>();

  /** Where the stream comes from (kept: gRPC forgets it once the connection is gone). */
  readonly peer: string;

  constructor(readonly id: number, private readonly call: XdsCall, private readonly events: StreamEvents) {
    this.peer = call.getPeer();
    call.on('data', (request: WireDiscoveryRequest) => this.onRequest(request));
    call.on('error', () => this.close());
    call.on('end', () => this.close());
    call.on('close', () => this.close());
    call.on('cancelled', () => this.close());
  }


  /** Sends `rendered` unless the stream already has exactly that; returns whether it sent. */
  push(rendered: Rendered, force = false): boolean {
    if (this.closed) return false;
    const version = streamVersion(rendered.versions);
    if (!force && this.sent !== undefined && this.sent.version === version) return false;
    const nonce = String(++this.nonce);
    this.sent = { nonce, version, versions: rendered.versions, at: Date.now() };
    this.call.write({ version_info: version, resources: rendered.resources, type_url: TYPED_EXTENSION_CONFIG_TYPE, nonce });
    return true;
  }

  /** Ends the stream from our side (the server stops); Envoy reconnects elsewhere or later. */
  end(): void {
    if (this.closed) return;
    this.call.end();
    this.close();
  }

  private onRequest(request: WireDiscoveryRequest): void {
    if (this.closed) return;
    if (request.node !== undefined && request.node !== null) this.node = request.node;
    const type = request.type_url ?? '';
    if (type !== TYPED_EXTENSION_CONFIG_TYPE) return this.answerOtherType(type);
    const nonce = request.response_nonce ?? '';
    if (nonce !== '' && nonce !== this.sent?.nonce) return; // stale: an answer to an older response
    if (nonce !== '' && this.sent !== undefined) this.judge(this.sent, request);
    const names = [...(request.resource_names ?? [])].sort();
    const first = nonce === '';
    if (first && this.versionAtConnect === undefined && (request.version_info ?? '') !== '') this.versionAtConnect = request.version_info;
    if (first || !sameNames(names, this.names)) {
      const before = this.names;
      this.names = names;
      // A first request (also after a reconnect) always gets an answer, even if nothing changed.
      if (first) this.sent = undefined;
      this.events.subscribed(this, before);
    }
  }

  private judge(sent: Sent, request: WireDiscoveryRequest): void {
    const error = request.error_detail;
    if (error !== undefined && error !== null) {
      const nack = { version: sent.version, message: error.message ?? `code ${error.code ?? '?'}`, at: Date.now() };
      const repeated = this.lastNack?.version === nack.version;
      this.lastNack = nack;
      if (!repeated) this.events.nacked(this, sent, nack);
      return;
    }
    if (this.acked?.nonce === sent.nonce) return;
    this.acked = sent;
    this.events.acked(this, sent);
  }

  private answerOtherType(type: string): void {
    if (this.otherTypes.has(type)) return;
    this.otherTypes.add(type);
    this.call.write({ version_info: '0', resources: [], type_url: type, nonce: `${type}/0` });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.closed(this);
  }
}

function streamVersion(versions: Map<string, string>): string {
  if (versions.size === 1) return [...versions.values()][0]!;
  const parts = [...versions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `${n}=${v}`);
  return digest(parts.join('\n'));
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
