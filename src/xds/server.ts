// The xDS server: the ADS and ECDS gRPC services (state of the world), every connected Envoy's
// stream, and what each is sent. Each stream gets the resources it names, rendered from the current
// catalog; GlobalToLocal budgets are split by the stream's rank among the streams of its app, so a
// stream joining or leaving re-renders (and re-pushes where it changed) the app's other streams.
import * as grpc from '@grpc/grpc-js';
import type { FailPolicy, WasmCode } from '../emit/wasm-plugin.ts';
import type { Logger } from '../serve/log.ts';
import { emptyApp, instanceConfig, type AppConfig, type Catalog } from './catalog.ts';
import type { XdsMetrics } from './metrics.ts';
import { ADS_SERVICE, ECDS_SERVICE, xdsService } from './protos.ts';
import { configVersion, extensionConfig, parseResourceName } from './resource.ts';
import { NodeStream, type Nack, type Rendered, type Sent, type StreamEvents, type XdsCall } from './stream.ts';

export interface XdsServerOptions {
  /** The module as every Envoy sees it (vm_config.code). */
  code: WasmCode;
  failPolicy: FailPolicy;
  logger: Logger;
  /** Set once the server exists (metrics read the server's streams). */
  metrics: () => XdsMetrics;
  keepalive?: Keepalive;
}

/**
 * HTTP/2 pings every `timeMs`, unanswered for `timeoutMs` → the connection is closed: finds Envoys
 * that vanished without closing it (GlobalToLocal would count them). Default 15 s + 5 s.
 */
export interface Keepalive {
  timeMs: number;
  timeoutMs: number;
}

export const DEFAULT_KEEPALIVE: Keepalive = { timeMs: 15_000, timeoutMs: 5_000 };

export class XdsServer implements StreamEvents {
  private readonly grpcServer: grpc.Server;
  private readonly streams = new Map<number, NodeStream>();
  private nextId = 1;
  private warnedUnknown = new Set<string>();

  constructor(private catalog: Catalog, private readonly options: XdsServerOptions) {
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    this.grpcServer = new grpc.Server({ 'grpc.keepalive_time_ms': keepalive.timeMs, 'grpc.keepalive_timeout_ms': keepalive.timeoutMs });
    const handler = (call: XdsCall) => this.accept(call);
    const unimplemented = (call: grpc.ServerDuplexStream<unknown, unknown>) =>
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'sergo xds speaks state-of-the-world xDS only (api_type GRPC, not DELTA_GRPC)' });
    this.grpcServer.addService(xdsService(ADS_SERVICE).service, { StreamAggregatedResources: handler, DeltaAggregatedResources: unimplemented });
    this.grpcServer.addService(xdsService(ECDS_SERVICE).service, {
      StreamExtensionConfigs: handler,
      DeltaExtensionConfigs: unimplemented,
      FetchExtensionConfigs: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'use the streaming API' }),
    });
  }

  listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** A new catalog: every stream whose rendering changed gets it. */
  publish(catalog: Catalog): void {
    this.catalog = catalog;
    for (const stream of this.streams.values()) this.send(stream);
  }

  connected(): NodeStream[] {
    return [...this.streams.values()];
  }

  /** Per resource name: how many streams subscribe to it, in connection order. */
  instancesOf(name: string): NodeStream[] {
    return this.connected().filter((s) => s.names.includes(name));
  }

  /** What `stream` runs (or is to run) for `name`: the app's configuration, its share of budgets. */
  appFor(name: string): AppConfig | undefined {
    const key = parseResourceName(name);
    return key === undefined ? undefined : (this.catalog.apps.get(name) ?? emptyApp(key, this.catalog.lanes));
  }

  /** Ends every stream, then the server (Envoys keep their configuration and reconnect later). */
  async close(): Promise<void> {
    for (const stream of this.streams.values()) stream.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.grpcServer.forceShutdown(); resolve(); }, 2_000);
      this.grpcServer.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  // ---- stream events ----

  subscribed(stream: NodeStream, before: readonly string[]): void {
    const metrics = this.options.metrics();
    for (const name of before) if (!stream.names.includes(name)) metrics.streams.dec({ app: name });
    for (const name of stream.names) if (!before.includes(name)) metrics.streams.inc({ app: name });
    this.send(stream, stream.sent === undefined);
    // Ranks of the other streams of the apps joined or left may have changed.
    this.rerank(new Set([...before, ...stream.names].filter((n) => !(before.includes(n) && stream.names.includes(n)))), stream);
    for (const name of stream.names) this.warnIfUnknown(name, stream);
  }

  acked(stream: NodeStream, sent: Sent): void {
    for (const name of sent.versions.keys()) this.options.metrics().acks.inc({ app: name });
    this.options.logger.debug(`${describe(stream)} ACKed version ${sent.version}`);
  }

  nacked(stream: NodeStream, sent: Sent, nack: Nack): void {
    for (const name of sent.versions.keys()) this.options.metrics().nacks.inc({ app: name });
    this.options.logger.error(`${describe(stream)} rejected version ${sent.version} (NACK): ${nack.message}`);
  }

  closed(stream: NodeStream): void {
    if (!this.streams.delete(stream.id)) return;
    for (const name of stream.names) this.options.metrics().streams.dec({ app: name });
    this.options.logger.info(`${describe(stream)} disconnected`);
    this.rerank(new Set(stream.names));
  }

  // ---- internals ----

  private accept(call: XdsCall): void {
    const stream = new NodeStream(this.nextId++, call, this);
    this.streams.set(stream.id, stream);
    this.options.logger.debug(`stream ${stream.id} from ${stream.peer} opened`);
  }

  private send(stream: NodeStream, force = false): void {
    const rendered = this.render(stream);
    if (!stream.push(rendered, force)) return;
    for (const name of rendered.versions.keys()) this.options.metrics().pushes.inc({ app: name });
    this.options.logger.info(`sent ${describe(stream)} version ${stream.sent!.version}`);
  }

  private render(stream: NodeStream): Rendered {
    const rendered: Rendered = { resources: [], versions: new Map() };
    for (const name of stream.names) {
      const app = this.appFor(name);
      if (app === undefined) continue;
      const instances = this.instancesOf(name);
      const config = instanceConfig(app, Math.max(0, instances.indexOf(stream)), instances.length);
      rendered.resources.push(extensionConfig(name, config, this.options.code, this.options.failPolicy));
      rendered.versions.set(name, configVersion(config));
    }
    return rendered;
  }

  /** Streams of these apps with GlobalToLocal budgets get their new share. */
  private rerank(names: Set<string>, except?: NodeStream): void {
    for (const name of names) {
      if ((this.appFor(name)?.shared.length ?? 0) === 0) continue;
      for (const other of this.instancesOf(name)) if (other !== except) this.send(other);
    }
  }

  private warnIfUnknown(name: string, stream: NodeStream): void {
    if (parseResourceName(name) !== undefined || this.warnedUnknown.has(name)) return;
    this.warnedUnknown.add(name);
    this.options.logger.warn(`${describe(stream)} asks for "${name}", which is not sergo/<namespace>/<app>: not served (its listener waits for it)`);
  }
}

export function describe(stream: NodeStream): string {
  const id = stream.node.id === undefined || stream.node.id === '' ? '(no node id)' : stream.node.id;
  return `node ${id} [${stream.names.join(', ') || 'no resources'}] at ${stream.peer}`;
}
