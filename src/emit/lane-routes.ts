// Lanes → Envoy routes and clusters (`--format envoy --endpoints FILE`, docs/traffic.md): for every
// host of the endpoints file, one route per lane matching the lane header, to an aggregate cluster
// (envoy.clusters.aggregate) of the lane's subset first and the base second, so that Envoy sends a
// lane's request to the base while the lane has no (healthy) endpoint of that host; and a route for
// every other request to the base. The lane's subset of a host is its endpoints whose labels include
// the lane's `workload.selector`; the base is its endpoints that belong to no lane of the namespace.
import type { LaneSet } from '../ir/lane.ts';
import { CLUSTER_DOMAIN, type Endpoint, type EndpointTable } from '../ir/traffic.ts';
import { aggregateCluster, clusterOf, type TrafficCluster } from './subset-clusters.ts';

export interface LaneRoute {
  /** `lane/<lane>`, `lane/base`: what Envoy's route stats and logs show. */
  name: string;
  match: { prefix: '/'; headers?: Array<{ name: string; string_match: { exact: string } }> };
  route: { cluster: string };
}

/** The routes of one host: the lane routes (to put first), then the base route (for no lane). */
export interface HostLaneRoutes {
  /** Fully qualified. */
  host: string;
  /** The names a client may use for the host (short, namespaced, fully qualified). */
  domains: string[];
  lanes: LaneRoute[];
  base: LaneRoute;
}

export interface LaneRouting {
  hosts: HostLaneRoutes[];
  clusters: TrafficCluster[];
}

/** `lane|gray|reviews.shop.svc.cluster.local`; the base is `lane||…`. */
export function laneClusterName(lane: string | undefined, host: string): string {
  return `lane|${lane ?? ''}|${host}`;
}

/** The aggregate of a lane's subset and the base. */
export function laneFallbackClusterName(lane: string, host: string): string {
  return `lane-fallback|${lane}|${host}`;
}

export function emitLaneRouting(set: LaneSet, endpoints: EndpointTable): LaneRouting {
  const hosts: HostLaneRoutes[] = [];
  const clusters: TrafficCluster[] = [];
  for (const [host, all] of endpoints) {
    const inLane = (e: Endpoint, labels: ReadonlyArray<readonly [string, string]>) => labels.every(([k, v]) => e.labels[k] === v);
    const base = all.filter((e) => !set.lanes.some((l) => inLane(e, l.workloadLabels)));
    clusters.push(clusterOf(laneClusterName(undefined, host), base));
    const lanes: LaneRoute[] = [];
    for (const lane of set.lanes) {
      clusters.push(clusterOf(laneClusterName(lane.name, host), all.filter((e) => inLane(e, lane.workloadLabels))));
      const fallback = laneFallbackClusterName(lane.name, host);
      clusters.push(aggregateCluster(fallback, [laneClusterName(lane.name, host), laneClusterName(undefined, host)]));
      lanes.push({ name: `lane/${lane.name}`, match: { prefix: '/', headers: [{ name: set.key, string_match: { exact: lane.name } }] }, route: { cluster: fallback } });
    }
    hosts.push({ host, domains: hostDomains(host), lanes, base: { name: 'lane/base', match: { prefix: '/' }, route: { cluster: laneClusterName(undefined, host) } } });
  }
  return { hosts, clusters };
}

/** `b.shop.svc.cluster.local` → b, b.shop, b.shop.svc and itself; another name → itself. */
export function hostDomains(host: string): string[] {
  const suffix = `.${CLUSTER_DOMAIN}`;
  if (!host.endsWith(suffix)) return [host];
  const [name, namespace] = host.slice(0, -suffix.length).split('.');
  if (name === undefined || namespace === undefined) return [host];
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, host];
}

/** The route table part of the bootstrap this module adds to (src/emit/envoy.ts). */
export interface RouteTable {
  ignore_port_in_host_matching?: true;
  virtual_hosts: Array<{ name: string; domains: string[]; routes: unknown[] }>;
}

/**
 * Puts each host's lane routes first in the virtual host that serves it (a TrafficRouter's); a host
 * without one gets its own virtual host (lane routes, then the base), before the catch-all `*`.
 */
export function addLaneRoutes(table: RouteTable, hosts: readonly HostLaneRoutes[]): void {
  table.ignore_port_in_host_matching = true;
  const added: RouteTable['virtual_hosts'] = [];
  for (const h of hosts) {
    const existing = table.virtual_hosts.find((v) => v.domains.some((d) => h.domains.includes(d)));
    if (existing !== undefined) existing.routes.unshift(...h.lanes);
    else added.push({ name: `lanes/${h.host}`, domains: h.domains, routes: [...h.lanes, h.base] });
  }
  const catchAll = table.virtual_hosts.findIndex((v) => v.domains.includes('*'));
  table.virtual_hosts.splice(catchAll < 0 ? table.virtual_hosts.length : catchAll, 0, ...added);
}
