// A scripted OpenSergo control plane for the protocol tests: a real gRPC server with the transport
// service (src/opensergo/protos), which records every message each stream sends it and pushes only
// what the test tells it to.
import * as grpc from '@grpc/grpc-js';
import { encodePayload, transportService, type WireAny, type WireSubscribeRequest, type WireSubscribeResponse } from '../../src/opensergo/protos.ts';
import { eventually } from '../envoy/harness.ts';

export const KIND = (bare: string) => `fault-tolerance.opensergo.io/v1alpha1/${bare}`;

type Call = grpc.ServerDuplexStream<WireSubscribeRequest, WireSubscribeResponse>;

export class PeerStream {
  readonly received: WireSubscribeRequest[] = [];
  ended = false;

  constructor(readonly call: Call) {
    call.on('data', (m: WireSubscribeRequest) => this.received.push(m));
    const done = () => (this.ended = true);
    call.on('end', done);
    call.on('error', done);
    call.on('cancelled', done);
  }

  subscriptions(): WireSubscribeRequest[] {
    return this.received.filter((m) => (m.response_ack ?? '') === '');
  }

  answers(): WireSubscribeRequest[] {
    return this.received.filter((m) => (m.response_ack ?? '') !== '');
  }

  /** Sends a push (or any response) as the control plane does; defaults fill the rest. */
  send(fields: Partial<WireSubscribeResponse> & { data?: WireAny[]; version?: number }): void {
    const { data, version, ...rest } = fields;
    this.call.write({
      status: { code: 200, message: 'Get and send rule success' },
      ack: '',
      namespace: 'default',
      app: 'foo',
      kind: KIND('RateLimitStrategy'),
      dataWithVersion: data === undefined && version === undefined ? null : { data: data ?? [], version: version ?? 0 },
      control_plane: { identifier: 'osg-scripted' },
      response_id: '',
      ...rest,
    });
  }

  /** Waits for the answer to a push: the first answer after `after` answers. */
  async answer(after: number): Promise<WireSubscribeRequest> {
    await eventually(() => this.answers().length > after, 10_000, `answer #${after + 1}`);
    return this.answers()[after]!;
  }

  /** Ends the stream with an error status (what a control plane that goes away looks like). */
  reset(): void {
    this.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'scripted reset' });
  }
}

export class ScriptedPeer {
  readonly streams: PeerStream[] = [];
  private constructor(private readonly server: grpc.Server, readonly port: number) {}

  static async start(port = 0): Promise<ScriptedPeer> {
    const server = new grpc.Server();
    let peer: ScriptedPeer | undefined;
    const pending: Call[] = [];
    server.addService(transportService().service, {
      SubscribeConfig: (call: Call) => (peer === undefined ? pending.push(call) : peer.streams.push(new PeerStream(call))),
    });
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    peer = new ScriptedPeer(server, bound);
    for (const call of pending) peer.streams.push(new PeerStream(call));
    return peer;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The n-th stream (0-based) once it has sent `subscriptions` subscriptions. */
  async stream(n: number, subscriptions: number): Promise<PeerStream> {
    await eventually(() => (this.streams[n]?.subscriptions().length ?? 0) >= subscriptions, 15_000, `stream ${n + 1} with ${subscriptions} subscriptions`);
    return this.streams[n]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.streams) if (!s.ended) s.call.end();
      this.server.forceShutdown();
      resolve();
    });
  }
}

export const payload = encodePayload;

/** The payloads of one app's simple rate limit: a RateLimitStrategy and the rule naming it. */
export function rateLimit(name: string, threshold: number, seconds = 60): WireAny {
  return encodePayload('RateLimitStrategy', { name, metric_type: 0, limit_mode: 0, threshold, stat_duration: seconds });
}

export function rule(resource: string, strategy: string, kind = 'RateLimitStrategy'): WireAny {
  return encodePayload('FaultToleranceRule', { targets: [{ target_resource_name: resource }], strategies: [{ name: strategy, kind }] });
}
