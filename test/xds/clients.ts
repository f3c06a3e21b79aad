// Plain gRPC xDS clients (no Envoy): an ADS stream that subscribes to one resource and ACKs (or
// NACKs) every response, as Envoy does. For the load test and bench/xds.ts: many of them at once.
import * as grpc from '@grpc/grpc-js';
import { ADS_SERVICE, TYPED_EXTENSION_CONFIG_TYPE, xdsService, type WireDiscoveryRequest } from '../../src/xds/protos.ts';

export interface Received {
  version: string;
  nonce: string;
  at: number;
  /** the filter configuration of each resource (unpacked from TypedExtensionConfig → Wasm) */
  configs: Map<string, { rules: Array<{ id: string; strategy: { threshold?: number } }> }>;
}

interface WireResource {
  name: string;
  typed_config: { config: { configuration: { value: string } } };
}

export class AdsClient {
  readonly received: Received[] = [];
  closed = false;
  private readonly client: grpc.Client & { StreamAggregatedResources(): grpc.ClientDuplexStream<WireDiscoveryRequest, unknown> };
  private readonly call: grpc.ClientDuplexStream<WireDiscoveryRequest, unknown>;
  private waiters: Array<() => void> = [];

  /**
   * `nack(version)`: answer that version with an error instead of an ACK. `runs`: the version_info of
   * the first request (what an Envoy reconnecting with a configuration says it runs).
   */
  constructor(address: string, readonly nodeId: string, readonly resource: string, private readonly nack: (version: string) => boolean = () => false, runs?: string) {
    const Client = xdsService(ADS_SERVICE, true);
    this.client = new Client(address, grpc.credentials.createInsecure()) as unknown as AdsClient['client'];
    this.call = this.client.StreamAggregatedResources();
    this.call.on('data', (response: { version_info: string; nonce: string; resources?: WireResource[] }) => this.onResponse(response));
    this.call.on('error', () => this.onClose());
    this.call.on('end', () => this.onClose());
    this.call.write({ node: { id: nodeId }, resource_names: [resource], type_url: TYPED_EXTENSION_CONFIG_TYPE, ...(runs === undefined ? {} : { version_info: runs }) });
  }

  get latest(): Received | undefined {
    return this.received.at(-1);
  }

  /** Resolves once a response satisfies `check` (checks the ones already received first). */
  async until(check: (r: Received) => boolean): Promise<Received> {
    for (;;) {
      const hit = this.received.find(check);
      if (hit !== undefined) return hit;
      if (this.closed) throw new Error(`${this.nodeId}: stream closed`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.call.cancel();
    this.client.close();
    this.onClose();
  }

  private onResponse(response: { version_info: string; nonce: string; resources?: WireResource[] }): void {
    const configs = new Map((response.resources ?? []).map((r) => [r.name, JSON.parse(r.typed_config.config.configuration.value)]));
    this.received.push({ version: response.version_info, nonce: response.nonce, at: Date.now(), configs });
    const request: WireDiscoveryRequest = { resource_names: [this.resource], type_url: TYPED_EXTENSION_CONFIG_TYPE, response_nonce: response.nonce };
    if (this.nack(response.version_info)) request.error_detail = { code: 3, message: `${this.nodeId} refuses ${response.version_info}` };
    else request.version_info = response.version_info;
    this.call.write(request);
    this.wake();
  }

  private onClose(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
