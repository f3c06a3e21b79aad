// The data plane's side of the OpenSergo transport: one bidirectional stream to the control plane,
// one subscription per (app, kind), and an answer to every push, as the SDKs answer: `ACK` with
// the push's response_id and code 1 (applied) or 4010 (outdated version), `NACK` with code 4000 and
// the reason. When the stream fails or the control plane is unreachable, the client waits (backoff
// with jitter, capped) and opens a new channel and stream, subscribing again. Messages that answer
// a request of ours (`ack` set) or report an error status are not pushes: they are passed on, not
// answered.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../serve/log.ts';
import type { AppKey } from '../xds/resource.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { streamIdentifier } from './identifier.ts';
import { transportService, type WireSubscribeRequest, type WireSubscribeResponse } from './protos.ts';

export const CODE_SUCCESS = 1;
export const CODE_PUSH = 200;
export const CODE_ERROR_UNKNOWN = 4000;
export const CODE_VERSION_OUTDATED = 4010;

export interface Answer {
  ack: 'ACK' | 'NACK';
  code: number;
  message: string;
}

export interface ClientEvents {
  /** A new stream is open and its subscriptions are sent (`stream` counts from 1). */
  connected(stream: number): void;
  disconnected(reason: string): void;
  /** A push of the control plane; the answer is sent back at once (undefined: none). */
  push(push: WireSubscribeResponse): Answer;
  /** A message that is not a push: the control plane's answer to a subscription, or an error it reports. */
  reply(message: WireSubscribeResponse): void;
}

export interface ClientOptions {
  /** HOST:PORT of the control plane (OpenSergo's is 10246) */
  address: string;
  targets: readonly AppKey[];
  kinds: readonly string[];
  /** unique per process; each stream adds its number */
  identifier: string;
  backoff?: BackoffOptions;
  /** how long one attempt waits for the connection (default 5 s) */
  connectTimeoutMs?: number;
  events: ClientEvents;
  logger: Logger;
}

export type ClientState = 'connecting' | 'connected' | 'waiting' | 'closed';

/** A stream that lived this long (or got a message) was healthy: the next failure starts the backoff over. */
const HEALTHY_MS = 5_000;

/**
 * HTTP/2 pings find a control plane that vanished without closing the connection. Not more often
 * than every 5 minutes: the control plane is a grpc-go server, whose default policy closes a
 * connection that pings more often (GOAWAY too_many_pings).
 */
const KEEPALIVE = { 'grpc.keepalive_time_ms': 360_000, 'grpc.keepalive_timeout_ms': 20_000 };

export class OpenSergoClient {
  state: ClientState = 'connecting';
  /** streams opened so far */
  streams = 0;
  connectedAt: number | undefined;
  lastError: { message: string; at: number } | undefined;
  nextAttemptAt: number | undefined;
  /** ControlPlaneDesc.identifier of the last push (`osg-<hostname>`) */
  controlPlane: string | undefined;
  private channel: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<WireSubscribeRequest, WireSubscribeResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private requests = 0;
  private streamsAtLastError = -1;
  private readonly backoff: Backoff;

  constructor(private readonly options: ClientOptions) {
    this.backoff = new Backoff(options.backoff);
  }

  start(): void {
    this.attempt();
  }

  /** The identifier of the current (or last) stream. */
  identifier(): string {
    return streamIdentifier(this.options.identifier, this.streams);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.channel?.close();
  }

  private attempt(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.nextAttemptAt = undefined;
    this.channel?.close();
    const Service = transportService();
    const channel = new Service(this.options.address, grpc.credentials.createInsecure(), KEEPALIVE);
    this.channel = channel;
    this.whenReady(channel, Date.now() + (this.options.connectTimeoutMs ?? 5_000), (problem) => {
      if (this.state === 'closed' || channel !== this.channel) return;
      if (problem !== undefined) this.failed(`cannot reach ${this.options.address}: ${problem}`);
      else this.open(channel);
    });
  }

  /** READY → done(); a failed connection attempt or the deadline → done(reason), without waiting for gRPC's own retries. */
  private whenReady(channel: grpc.Client, deadline: number, done: (problem?: string) => void): void {
    const ch = channel.getChannel();
    const check = (): void => {
      const state = ch.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return done();
      if (state === grpc.connectivityState.TRANSIENT_FAILURE) return done('connection failed');
      if (state === grpc.connectivityState.SHUTDOWN) return done('channel closed');
      ch.watchConnectivityState(state, deadline, (err) => (err === undefined || err === null ? check() : done('no connection before the deadline')));
    };
    check();
  }

  private open(channel: grpc.Client): void {
    const stream = ++this.streams;
    const call = (channel as unknown as { SubscribeConfig(): grpc.ClientDuplexStream<WireSubscribeRequest, WireSubscribeResponse> }).SubscribeConfig();
    this.call = call;
    const opened = Date.now();
    let received = false;
    call.on('data', (message: WireSubscribeResponse) => {
      if (call !== this.call) return;
      received = true;
      this.onMessage(call, message);
    });
    const ended = (why: string) => {
      if (call !== this.call) return;
      this.call = undefined;
      if (received || Date.now() - opened >= HEALTHY_MS) this.backoff.reset();
      this.failed(why);
    };
    call.on('error', (err: grpc.ServiceError) => ended(`stream ${stream} failed: ${err.details || err.message}`));
    call.on('end', () => ended(`stream ${stream} ended by the control plane`));
    const identifier = this.identifier();
    // Kind by kind, every app of a kind in a row: the control plane starts a kind's watcher on its
    // first subscription and drops objects of apps not yet subscribed when the watcher reconciles them.
    for (const kind of this.options.kinds) {
      for (const { namespace, app } of this.options.targets) {
        call.write({ target: { namespace, app, labels: [], kinds: [kind] }, op_type: 0, identifier, request_id: String(++this.requests) });
      }
    }
    this.state = 'connected';
    this.connectedAt = Date.now();
    this.options.logger.info(`connected to the OpenSergo control plane at ${this.options.address} as ${identifier}; subscribed ${this.options.targets.length * this.options.kinds.length} (app, kind) pairs`);
    this.options.events.connected(stream);
  }

  private failed(why: string): void {
    if (this.state === 'closed') return;
    // The first failure of a series is said (the control plane is gone, or not there at start); the retries only at debug.
    const first = this.lastError === undefined || this.streamsAtLastError !== this.streams;
    this.streamsAtLastError = this.streams;
    this.state = 'waiting';
    this.connectedAt = undefined;
    this.lastError = { message: why, at: Date.now() };
    const delay = this.backoff.next();
    this.nextAttemptAt = Date.now() + delay;
    (first ? this.options.logger.warn : this.options.logger.debug)(`${why}; next attempt in ${delay} ms`);
    this.options.events.disconnected(why);
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  private onMessage(call: grpc.ClientDuplexStream<WireSubscribeRequest, WireSubscribeResponse>, message: WireSubscribeResponse): void {
    if ((message.control_plane?.identifier ?? '') !== '') this.controlPlane = message.control_plane!.identifier;
    const code = message.status?.code;
    if (message.ack !== '' || (code !== undefined && code !== CODE_SUCCESS && code !== CODE_PUSH)) {
      this.options.events.reply(message);
      return;
    }
    const answer = this.options.events.push(message);
    call.write({ status: { code: answer.code, message: answer.message }, response_ack: answer.ack, request_id: message.response_id });
  }
}
