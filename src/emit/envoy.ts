// Deployment (src/ir) → a complete, runnable Envoy v3 bootstrap (static resources):
//   admin · one listener → http_connection_manager → [envoy.filters.http.wasm (sergo), router] →
//   one upstream cluster · stats_tags that turn the filter's Istio-style metric tags into labels.
// Consumes the deployment (never OpenSergo YAML): its filter configuration (src/emit/filter.ts), its
// rate-limit service, and with `--xds` its ECDS resource name (src/emit/ecds.ts). docs/translator.md
// describes the flags.
//
// With limitMode Global rules, a second cluster named like the deployment's rate-limit service
// points at the service's HTTP/JSON address (its endpoint): the filter calls it with
// proxy_http_call, over HTTP/1.1 (Envoy's default for a cluster without HTTP/2 options), and a short
// connect timeout so that an unreachable service fails fast (the call has its own timeout anyway).
//
// Extending: every piece is built by a small function (listener, cluster, filters) and the bootstrap
// lists clusters and HTTP filters as arrays, so another cluster is one more `staticCluster(...)` in
// `clusters` and another filter one more entry before the router.
import { isIP } from 'node:net';
import type { HostPort } from '../address.ts';
import type { Deployment } from '../ir/model.ts';
import type { EndpointTable } from '../ir/traffic.ts';
import { emitTrafficRoutes, FAULT_FILTER_NAME, FAULT_FILTER_TYPE, type VirtualHost } from './envoy-routes.ts';
import { addLaneRoutes, emitLaneRouting } from './lane-routes.ts';
import { emitSubsetClusters, type TrafficCluster } from './subset-clusters.ts';
import { deploymentKey, resourceName, waitingConfig } from './ecds.ts';
import { emitFilterConfig, type FilterConfig } from './filter.ts';
import { METRIC_TAGS, statsTagRegex } from './metrics.ts';
import { WASM_FILTER_NAME, WASM_FILTER_TYPE, wasmPluginConfig, type FailPolicy, type WasmCode, type WasmFilter } from './wasm-plugin.ts';
import { renderYaml } from './yaml.ts';

export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
export const ROUTER_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const HCM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const STDOUT_ACCESS_LOG_NAME = 'envoy.access_loggers.stdout';
export const STDOUT_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

export const UPSTREAM_CLUSTER = 'upstream';
/** `--xds`: the cluster of `sergo xds` (gRPC, HTTP/2) and how long Envoy waits for its first answer. */
export const XDS_CLUSTER = 'sergo_xds';
export const XDS_INITIAL_FETCH_TIMEOUT = '5s';
/** Reconnecting to `sergo xds`: from 0.25 s, backing off to at most 5 s (Envoy's default: 0.5 s to 30 s). */
export const XDS_RETRY_BACK_OFF = { base_interval: '0.25s', max_interval: '5s' } as const;
export const HTTP_PROTOCOL_OPTIONS_NAME = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const HTTP_PROTOCOL_OPTIONS_TYPE = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const DEFAULT_LISTEN = '0.0.0.0:10000';
export const DEFAULT_ADMIN = '127.0.0.1:9901';
export const CONNECT_TIMEOUT = '5s';
/** The rate-limit service is close by and asked within ~20 ms: do not wait seconds for a connection. */
export const RLS_CONNECT_TIMEOUT = '0.25s';

/**
 * The filter and the upstream must see the same path, or a rule on `/a/b` is bypassed by `//a/b`,
 * `/a/./b` or `/a/%62`. `%2F`/`%5C` are decoded too (as Istio's DECODE_AND_MERGE_SLASHES does), so
 * `/a%2Fb` is `/a/b` for the filter and for the application alike.
 */
export const ESCAPED_SLASHES_ACTION = 'UNESCAPE_AND_FORWARD';

/** How Envoy talks to the upstream: HTTP/1.1 (Envoy's default) or HTTP/2 with prior knowledge (gRPC). */
export const UPSTREAM_PROTOCOLS = ['http1', 'http2'] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

// ---- the Envoy objects we emit (exactly the fields used; schema/envoy-bootstrap.schema.json) ----

export interface SocketAddress {
  socket_address: { address: string; port_value: number };
}

export interface HttpFilter {
  name: string;
  typed_config: { '@type': string } & Record<string, unknown>;
}

/** An HTTP filter configured over ECDS: `name` is the resource Envoy subscribes to. */
export interface DiscoveredHttpFilter {
  name: string;
  config_discovery: {
    config_source: { ads: Record<string, never>; resource_api_version: 'V3'; initial_fetch_timeout: string };
    default_config: WasmFilter;
    apply_default_config_without_warming: false;
    type_urls: [typeof WASM_FILTER_TYPE];
  };
}

export interface Cluster {
  name: string;
  type: 'STATIC' | 'STRICT_DNS';
  connect_timeout: string;
  dns_lookup_family?: 'V4_PREFERRED';
  /** HTTP/2 to the cluster (gRPC: `sergo xds`). */
  typed_extension_protocol_options?: Record<string, { '@type': string; explicit_http_config: { http2_protocol_options: Record<string, never> } }>;
  load_assignment: {
    cluster_name: string;
    endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: SocketAddress } }> }>;
  };
}

export interface HttpConnectionManager {
  '@type': typeof HCM_FILTER_TYPE;
  stat_prefix: string;
  /** RFC 3986 §6 normalisation (dot segments, percent-decoding of unreserved characters). */
  normalize_path: true;
  merge_slashes: true;
  path_with_escaped_slashes_action: typeof ESCAPED_SLASHES_ACTION;
  access_log: Array<{ name: string; typed_config: { '@type': string } }>;
  route_config: {
    name: string;
    /** With TrafficRouters or lanes: `reviews:8080` is host `reviews` (clients add the port to :authority). */
    ignore_port_in_host_matching?: true;
    /** The routers' virtual hosts (src/emit/envoy-routes.ts) first, then lanes' (src/emit/lane-routes.ts), then `*` → the upstream. */
    virtual_hosts: VirtualHost[];
  };
  /** (or, with `--xds`, a DiscoveredHttpFilter in place of the sergo filter) */
  http_filters: HttpFilter[];
}

export interface Listener {
  name: string;
  address: SocketAddress;
  filter_chains: Array<{ filters: Array<{ name: string; typed_config: HttpConnectionManager }> }>;
}

export interface StatsTag {
  tag_name: string;
  regex: string;
}

export interface EnvoyBootstrap {
  /** `--xds`: who this Envoy is to `sergo xds` (`--service-node` overrides the id). */
  node?: { id: string; cluster: string };
  /** `--xds`: the ADS stream to `sergo xds`. */
  dynamic_resources?: {
    ads_config: {
      api_type: 'GRPC';
      transport_api_version: 'V3';
      grpc_services: Array<{ envoy_grpc: { cluster_name: string; retry_policy: { retry_back_off: typeof XDS_RETRY_BACK_OFF } } }>;
    };
  };
  admin: { address: SocketAddress };
  stats_config: { stats_tags: StatsTag[] };
  /** With TrafficRouters: Istio's RE2 program size limit (Envoy's own, 100, refuses modest regexes). */
  layered_runtime?: { layers: Array<{ name: string; static_layer: Record<string, number> }> };
  static_resources: { listeners: Listener[]; clusters: Array<Cluster | TrafficCluster> };
}

// ---- inputs ----

export interface EnvoyBootstrapOptions {
  /** Listener address (an IP literal). */
  listen: HostPort;
  /** Admin address (an IP literal). */
  admin: HostPort;
  /** Where requests go: an IP literal (STATIC cluster) or a DNS name (STRICT_DNS). */
  upstream: HostPort;
  /** Path of the module as Envoy sees it. */
  modulePath: string;
  failPolicy: FailPolicy;
  /**
   * The route's `timeout` (ms): no complete response from the upstream by then → 504. Absent: not
   * emitted, so Envoy's own default (15 s) applies.
   */
  upstreamTimeoutMs?: number;
  /** `--upstream-protocol`: default http1 (nothing emitted); http2 for gRPC upstreams. */
  upstreamProtocol?: UpstreamProtocol;
  /** `--xds`: the sergo filter's configuration comes from `sergo xds` over ECDS (docs/xds.md). */
  xds?: XdsBootstrapOptions;
  /** `--endpoints`: the hosts TrafficRouters route to (docs/traffic.md); required with routers. */
  endpoints?: EndpointTable;
}

/**
 * The sergo filter's configuration comes from `sergo xds` over ECDS: the resource is the deployment's
 * `sergo/<namespace>/<app>` (src/emit/ecds.ts), so the deployment needs an app and one namespace.
 */
export interface XdsBootstrapOptions {
  /** Where `sergo xds --listen` listens (gRPC). */
  server: HostPort;
}

/**
 * Throws when the deployment cannot be delivered this way (Global rules without the service's
 * endpoint, or `--xds` without one app in one namespace): renderTarget (src/emit/targets.ts) reports
 * those as input errors first.
 */
export function emitEnvoyBootstrap(deployment: Deployment, options: EnvoyBootstrapOptions): EnvoyBootstrap {
  const code: WasmCode = { local: { filename: options.modulePath } };
  const xds = options.xds === undefined ? undefined : xdsPlan(deployment, options.xds);
  const config = emitFilterConfig(deployment);
  const sergo = xds === undefined ? sergoHttpFilter(config, code, options.failPolicy) : discoveredHttpFilter(xds.resource, code, options.failPolicy);
  // The ECDS form has config_discovery instead of typed_config; the HCM takes either.
  const traffic = trafficPlan(deployment, options);
  const httpFilters = [sergo as HttpFilter, ...(traffic?.fault === true ? [faultHttpFilter()] : []), routerHttpFilter()];
  const clusters: Array<Cluster | TrafficCluster> = [upstreamCluster(options)];
  if (xds !== undefined) clusters.push(xdsCluster(xds.server));
  if (config.rateLimitService !== undefined) clusters.push(rlsCluster(deployment));
  clusters.push(...(traffic?.clusters ?? []));
  const listener = httpListener('sergo_http', options.listen, UPSTREAM_CLUSTER, httpFilters, options.upstreamTimeoutMs);
  if (traffic !== undefined) {
    const routes = listener.filter_chains[0]!.filters[0]!.typed_config.route_config;
    routes.ignore_port_in_host_matching = true;
    // A router of host `*` takes every request: the default virtual host (same domain) would be refused.
    const all = traffic.virtualHosts.some((v) => v.domains.includes('*'));
    routes.virtual_hosts = [...traffic.virtualHosts, ...routes.virtual_hosts.filter((v) => !all || !v.domains.includes('*'))];
  }
  if (deployment.lanes !== undefined && options.endpoints !== undefined) {
    // Lane routes go first in their hosts' virtual hosts: the lane header decides before any router.
    const lanes = emitLaneRouting(deployment.lanes, options.endpoints);
    addLaneRoutes(listener.filter_chains[0]!.filters[0]!.typed_config.route_config, lanes.hosts);
    clusters.push(...lanes.clusters);
  }
  return {
    ...(xds === undefined ? {} : xdsBootstrapFields(xds.node)),
    admin: { address: socketAddress(options.admin) },
    stats_config: { stats_tags: metricStatsTags() },
    ...(traffic === undefined ? {} : { layered_runtime: { layers: [{ name: 'sergo', static_layer: { [RE2_MAX_PROGRAM_SIZE]: ISTIO_RE2_MAX_PROGRAM_SIZE } }] } }),
    static_resources: { listeners: [listener], clusters },
  };
}

/** The runtime key of the RE2 program size above which Envoy refuses a regex, and Istio's value for it. */
export const RE2_MAX_PROGRAM_SIZE = 're2.max_program_size.error_level';
export const ISTIO_RE2_MAX_PROGRAM_SIZE = 32768;

/** The routers' virtual hosts and clusters; renderTarget has checked envoyTrafficProblems first. */
function trafficPlan(deployment: Deployment, options: EnvoyBootstrapOptions) {
  const traffic = deployment.traffic;
  if (traffic === undefined || traffic.routers.length === 0) return undefined;
  if (options.endpoints === undefined) throw new Error('TrafficRouters need the endpoints of their hosts (--endpoints)');
  const routes = emitTrafficRoutes(traffic);
  return { ...routes, clusters: emitSubsetClusters(routes.targets, traffic.subsets, options.endpoints) };
}

/** Envoy's fault filter, inert by itself: routes with `fault` configure it (typed_per_filter_config). */
export function faultHttpFilter(): HttpFilter {
  return { name: FAULT_FILTER_NAME, typed_config: { '@type': FAULT_FILTER_TYPE } };
}

/** The cluster of the rate-limit service: named like the deployment's service, at its endpoint. */
function rlsCluster(deployment: Deployment): Cluster {
  const service = deployment.rateLimitService;
  if (service.endpoint === undefined) throw new Error('the configuration has Global rate limits: the rate-limit service address (rls) is required');
  if (service.cluster === UPSTREAM_CLUSTER) throw new Error(`the rate-limit service cluster must not be named ${UPSTREAM_CLUSTER}`);
  return staticCluster(service.cluster, service.endpoint, RLS_CONNECT_TIMEOUT);
}

/** `--xds`: the deployment's resource and who this Envoy is to `sergo xds` (`--service-node` overrides the id). */
function xdsPlan(deployment: Deployment, options: XdsBootstrapOptions) {
  const key = deploymentKey(deployment);
  if (key === undefined) throw new Error('--xds needs a deployment of one app in one namespace');
  return { server: options.server, resource: resourceName(key), node: { id: `${key.app}.${key.namespace}`, cluster: key.app } };
}

export function renderEnvoyBootstrap(bootstrap: EnvoyBootstrap, options: Pick<EnvoyBootstrapOptions, 'modulePath'>): string {
  return renderYaml(bootstrap, [
    'Envoy bootstrap generated by `sergo translate --format envoy`. Do not edit: change the rules and translate again.',
    `Needs Envoy 1.33 or newer (failure_policy) and the module at ${options.modulePath}: envoy -c <this file>`,
  ]);
}

export function sergoHttpFilter(config: FilterConfig, code: WasmCode, failPolicy: FailPolicy): HttpFilter {
  const typed: WasmFilter = { '@type': WASM_FILTER_TYPE, config: wasmPluginConfig(config, code, failPolicy) };
  return { name: WASM_FILTER_NAME, typed_config: { ...typed } };
}

/**
 * The sergo filter over ECDS (from `sergo xds`, docs/xds.md): Envoy waits for the first answer
 * (warming, up to XDS_INITIAL_FETCH_TIMEOUT) and runs the waiting configuration if none comes.
 */
export function discoveredHttpFilter(resource: string, code: WasmCode, failPolicy: FailPolicy): DiscoveredHttpFilter {
  return {
    name: resource,
    config_discovery: {
      config_source: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: XDS_INITIAL_FETCH_TIMEOUT },
      default_config: { '@type': WASM_FILTER_TYPE, config: wasmPluginConfig(waitingConfig(failPolicy), code, failPolicy) },
      apply_default_config_without_warming: false,
      type_urls: [WASM_FILTER_TYPE],
    },
  };
}

/** The cluster of `sergo xds`: gRPC needs HTTP/2. */
export function xdsCluster(server: HostPort): Cluster {
  const http2 = { '@type': HTTP_PROTOCOL_OPTIONS_TYPE, explicit_http_config: { http2_protocol_options: {} } };
  return { ...staticCluster(XDS_CLUSTER, server, RLS_CONNECT_TIMEOUT), typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS_NAME]: http2 } };
}

function xdsBootstrapFields(node: { id: string; cluster: string }): Pick<EnvoyBootstrap, 'node' | 'dynamic_resources'> {
  return {
    node,
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER, retry_policy: { retry_back_off: XDS_RETRY_BACK_OFF } } }],
      },
    },
  };
}

export function routerHttpFilter(): HttpFilter {
  return { name: ROUTER_FILTER_NAME, typed_config: { '@type': ROUTER_FILTER_TYPE } };
}

/** One regex per tag: the outer group is cut from the name, the inner one is the label value. */
export function metricStatsTags(): StatsTag[] {
  return METRIC_TAGS.map((tag) => ({ tag_name: tag, regex: statsTagRegex(tag) }));
}

export function httpListener(name: string, address: HostPort, cluster: string, httpFilters: HttpFilter[], upstreamTimeoutMs?: number): Listener {
  const route = upstreamTimeoutMs === undefined ? { cluster } : { cluster, timeout: durationText(upstreamTimeoutMs) };
  const hcm: HttpConnectionManager = {
    '@type': HCM_FILTER_TYPE,
    stat_prefix: 'ingress_http',
    normalize_path: true,
    merge_slashes: true,
    path_with_escaped_slashes_action: ESCAPED_SLASHES_ACTION,
    access_log: [{ name: STDOUT_ACCESS_LOG_NAME, typed_config: { '@type': STDOUT_ACCESS_LOG_TYPE } }],
    route_config: {
      name: 'local_route',
      virtual_hosts: [{ name: cluster, domains: ['*'], routes: [{ match: { prefix: '/' }, route }] }],
    },
    http_filters: httpFilters,
  };
  return { name, address: socketAddress(address), filter_chains: [{ filters: [{ name: HCM_FILTER_NAME, typed_config: hcm }] }] };
}

/** A cluster of one endpoint: STATIC for an IP literal, STRICT_DNS (IPv4 preferred) for a name. */
export function staticCluster(name: string, endpoint: HostPort, connectTimeout: string = CONNECT_TIMEOUT): Cluster {
  const dns = isIP(endpoint.host) === 0;
  const loadAssignment: Cluster['load_assignment'] = {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(endpoint) } }] }],
  };
  return dns
    ? { name, type: 'STRICT_DNS', connect_timeout: connectTimeout, dns_lookup_family: 'V4_PREFERRED', load_assignment: loadAssignment }
    : { name, type: 'STATIC', connect_timeout: connectTimeout, load_assignment: loadAssignment };
}

/** Milliseconds as a protobuf JSON Duration: 300 → "0.3s", 15000 → "15s". */
function durationText(ms: number): string {
  return `${ms / 1000}s`;
}

/** The cluster of the application; gRPC needs HTTP/2 to it (`--upstream-protocol http2`). */
function upstreamCluster(options: EnvoyBootstrapOptions): Cluster {
  const cluster = staticCluster(UPSTREAM_CLUSTER, options.upstream);
  if (options.upstreamProtocol !== 'http2') return cluster;
  const http2 = { '@type': HTTP_PROTOCOL_OPTIONS_TYPE, explicit_http_config: { http2_protocol_options: {} } };
  return { ...cluster, typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS_NAME]: http2 } };
}

function socketAddress(a: HostPort): SocketAddress {
  return { socket_address: { address: a.host, port_value: a.port } };
}
