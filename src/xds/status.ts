// What the admin endpoint's /status shows: the catalog being served and, per connected Envoy and
// resource, the version sent, the version it runs (its last ACK) and its last NACK.
import type { XdsServer } from './server.ts';
import type { NodeStream } from './stream.ts';
import { parseResourceName } from './resource.ts';

export interface CatalogError {
  at: string;
  errors: string[];
}

export interface NodeStatus {
  /** node.id (the bootstrap's, or Envoy's --service-node) */
  node: string;
  /** the stream's peer address, e.g. ipv4:127.0.0.1:53412 */
  peer: string;
  stream: number;
  resource: string;
  namespace?: string;
  app?: string;
  connectedAt: string;
  /** the version last sent for this resource */
  sent: string | null;
  /** the version Envoy runs: the last one it ACKed (or, before any, the one it had when it connected) */
  running: string | null;
  /** ACKed: runs what was sent; NACKed: refused it (runs `running`); pending: no answer yet */
  state: 'ACKed' | 'NACKed' | 'pending';
  lastError: { version: string; message: string; at: string } | null;
  /** GlobalToLocal: this Envoy's rank among the app's connected Envoys, and their number */
  instance?: { rank: number; of: number };
}

export interface XdsStatus {
  /** where the catalog comes from when it is not rule files (`sergo xds --opensergo`: the control plane) */
  source?: { type: string } & Record<string, unknown>;
  catalog: {
    version: string;
    files: string[];
    apps: Array<{ resource: string; rules: number }>;
    /** the last edit that was refused (cleared by the next valid one) */
    lastError: CatalogError | null;
  };
  nodes: NodeStatus[];
}

export function nodeStatus(stream: NodeStream, server: XdsServer): NodeStatus[] {
  return stream.names.map((resource) => {
    const key = parseResourceName(resource);
    const sent = stream.sent?.versions.get(resource) ?? null;
    const running = stream.acked?.versions.get(resource) ?? (stream.names.length === 1 ? stream.versionAtConnect : undefined) ?? null;
    const nack = stream.lastNack;
    const nacked = nack !== undefined && stream.sent !== undefined && nack.version === stream.sent.version;
    const acked = stream.sent !== undefined && stream.acked?.nonce === stream.sent.nonce;
    const status: NodeStatus = {
      node: stream.node.id ?? '',
      peer: stream.peer,
      stream: stream.id,
      resource,
      ...(key === undefined ? {} : key),
      connectedAt: new Date(stream.connectedAt).toISOString(),
      sent,
      running,
      state: acked ? 'ACKed' : nacked ? 'NACKed' : 'pending',
      lastError: nack === undefined ? null : { version: nack.version, message: nack.message, at: new Date(nack.at).toISOString() },
    };
    if ((server.appFor(resource)?.shared.length ?? 0) > 0) {
      const instances = server.instancesOf(resource);
      status.instance = { rank: instances.indexOf(stream), of: instances.length };
    }
    return status;
  });
}
