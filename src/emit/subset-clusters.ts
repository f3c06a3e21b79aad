// Subsets → Envoy clusters for the bootstrap (`--format envoy` with `--endpoints`): a subset is a
// cluster of the host's endpoints whose labels include the subset's labels; a destination with a
// fallback is an aggregate cluster (envoy.clusters.aggregate: the subset first, the fallback second),
// so Envoy sends to the fallback while the subset has no healthy endpoint. Names follow Istio's
// `outbound|PORT|SUBSET|FQDN` with an empty port (the endpoints carry their ports), as OpenSergo's
// control plane names them.
import { isIP } from 'node:net';
import { type Endpoint, findSubset, selects, type EndpointTable, type ServiceSubset, type SubsetRef } from '../ir/traffic.ts';

export const AGGREGATE_CLUSTER_NAME = 'envoy.clusters.aggregate';
export const AGGREGATE_CLUSTER_TYPE = 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig';
export const SUBSET_CONNECT_TIMEOUT = '5s';

export interface EndpointCluster {
  name: string;
  type: 'STATIC' | 'STRICT_DNS';
  connect_timeout: string;
  dns_lookup_family?: 'V4_PREFERRED';
  load_assignment: {
    cluster_name: string;
    endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string; port_value: number } } } }> }>;
  };
}

export interface AggregateCluster {
  name: string;
  connect_timeout: string;
  lb_policy: 'CLUSTER_PROVIDED';
  cluster_type: { name: typeof AGGREGATE_CLUSTER_NAME; typed_config: { '@type': typeof AGGREGATE_CLUSTER_TYPE; clusters: string[] } };
}

export type TrafficCluster = EndpointCluster | AggregateCluster;

/** What a route sends to: a subset, or a subset that fails over to another. */
export interface ClusterTarget {
  primary: SubsetRef;
  fallback?: SubsetRef;
}

/** `outbound||v1|reviews.default.svc.cluster.local`; `outbound|||…` for the whole host. */
export function subsetClusterName(ref: SubsetRef): string {
  return `outbound||${ref.subset ?? ''}|${ref.host}`;
}

/** The aggregate cluster of a subset and its fallback. */
export function fallbackClusterName(primary: SubsetRef, fallback: SubsetRef): string {
  return `fallback|${subsetClusterName(primary)}|${subsetClusterName(fallback)}`;
}

/** The cluster a route names for `target`. */
export function targetClusterName(target: ClusterTarget): string {
  return target.fallback === undefined ? subsetClusterName(target.primary) : fallbackClusterName(target.primary, target.fallback);
}

/**
 * Every cluster the targets need, each once, in first-use order (subset clusters before the aggregates
 * that name them). Throws when a host has no entry in `endpoints` (callers check first:
 * missingEndpoints).
 */
export function emitSubsetClusters(
  targets: readonly ClusterTarget[],
  subsets: readonly ServiceSubset[],
  endpoints: EndpointTable,
): TrafficCluster[] {
  const out = new Map<string, TrafficCluster>();
  const aggregates = new Map<string, AggregateCluster>();
  for (const target of targets) {
    for (const ref of target.fallback === undefined ? [target.primary] : [target.primary, target.fallback]) {
      const name = subsetClusterName(ref);
      if (!out.has(name)) out.set(name, endpointCluster(name, ref, subsets, endpoints));
    }
    if (target.fallback !== undefined) {
      const name = fallbackClusterName(target.primary, target.fallback);
      aggregates.set(name, aggregateCluster(name, [subsetClusterName(target.primary), subsetClusterName(target.fallback)]));
    }
  }
  return [...out.values(), ...aggregates.values()];
}

/** Hosts of `targets` that `endpoints` does not list (a typo would otherwise send nowhere). */
export function missingEndpoints(targets: readonly ClusterTarget[], endpoints: EndpointTable): string[] {
  const hosts = new Set(targets.flatMap((t) => [t.primary.host, ...(t.fallback === undefined ? [] : [t.fallback.host])]));
  return [...hosts].filter((host) => !endpoints.has(host));
}

function endpointCluster(name: string, ref: SubsetRef, subsets: readonly ServiceSubset[], endpoints: EndpointTable): EndpointCluster {
  const all = endpoints.get(ref.host);
  if (all === undefined) throw new Error(`no endpoints are listed for ${ref.host}`);
  const subset = findSubset(subsets, ref);
  if (ref.subset !== undefined && subset === undefined) throw new Error(`subset ${ref.subset} of ${ref.host} is not defined`);
  return clusterOf(name, subset === undefined ? all : all.filter((e) => selects(subset.labels, e)));
}

/** A cluster of exactly these endpoints (also the lanes' subsets and base, src/emit/lane-routes.ts). */
export function clusterOf(name: string, chosen: readonly Endpoint[]): EndpointCluster {
  const lbEndpoints = chosen.map((e) => ({ endpoint: { address: { socket_address: { address: e.address.host, port_value: e.address.port } } } }));
  const dns = chosen.some((e) => isIP(e.address.host) === 0);
  const cluster: EndpointCluster = {
    name,
    type: dns ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: SUBSET_CONNECT_TIMEOUT,
    // A subset without endpoints is an empty cluster: the aggregate fails over, a plain route gets 503.
    load_assignment: { cluster_name: name, endpoints: lbEndpoints.length === 0 ? [] : [{ lb_endpoints: lbEndpoints }] },
  };
  return dns ? { ...cluster, dns_lookup_family: 'V4_PREFERRED' } : cluster;
}

export function aggregateCluster(name: string, clusters: string[]): AggregateCluster {
  return {
    name,
    connect_timeout: SUBSET_CONNECT_TIMEOUT,
    lb_policy: 'CLUSTER_PROVIDED',
    cluster_type: { name: AGGREGATE_CLUSTER_NAME, typed_config: { '@type': AGGREGATE_CLUSTER_TYPE, clusters } },
  };
}
