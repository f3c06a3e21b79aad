// Filter configuration → a complete, runnable Envoy v3 bootstrap (static resources):
//   admin · one listener → http_connection_manager → [envoy.filters.http.wasm (sergo), router] →
//   one upstream cluster · stats_tags that turn the filter's Istio-style metric tags into labels.
// Consumes only the filter configuration (never OpenSergo YAML). The Wasm PluginConfig builder and the
// names below are shared with the EnvoyFilter emitter. docs/translator.md describes the flags.
//
// With limitMode Global rules (the configuration names a `rateLimitService`), a second cluster of that
// name points at the rate-limit service's HTTP/JSON address: the filter calls it with
// proxy_http_call, over HTTP/1.1 (Envoy's default for a cluster without HTTP/2 options), and a short
// connect timeout so that an unreachable service fails fast (the call has its own timeout anyway).
//
// Extending: every piece is built by a small function (listener, cluster, filters) and the bootstrap
// lists clusters and HTTP filters as arrays, so another cluster is one more `staticCluster(...)` in
// `clusters` and another filter one more entry before the router.
import { isIP } from 'node:net';
import type { HostPort } from '../address.ts';
import { renderFilterConfig, type FilterConfig } from './filter.ts';
import { renderYaml } from './yaml.ts';

// Names Envoy and the module agree on (DESIGN §2: root_id `sergo`).
export const PLUGIN_NAME = 'sergo';
export const ROOT_ID = 'sergo';
export const VM_ID = 'sergo';
export const V8_RUNTIME = 'envoy.wasm.runtime.v8';
export const DEFAULT_MODULE_PATH = '/etc/envoy/sergo.wasm';

export const WASM_FILTER_NAME = 'envoy.filters.http.wasm';
export const WASM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
export const ROUTER_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const HCM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';
export const STDOUT_ACCESS_LOG_NAME = 'envoy.access_loggers.stdout';
export const STDOUT_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

/** The tags the filter encodes in its metric names (README "Metrics"), `tag=.=value;.;`. */
export const METRIC_TAGS = ['sergo_rule', 'sergo_resource', 'sergo_strategy', 'sergo_from', 'sergo_to'] as const;

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

export type FailPolicy = 'closed' | 'open';

/** How Envoy talks to the upstream: HTTP/1.1 (Envoy's default) or HTTP/2 with prior knowledge (gRPC). */
export const UPSTREAM_PROTOCOLS = ['http1', 'http2'] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

// ---- the Envoy objects we emit (exactly the fields used; schema/envoy-bootstrap.schema.json) ----

export interface SocketAddress {
  socket_address: { address: string; port_value: number };
}

export type WasmCode =
  | { local: { filename: string } }
  | { remote: { http_uri: { uri: string; cluster: string; timeout: string }; sha256: string } };

/** envoy.extensions.wasm.v3.PluginConfig. */
export interface WasmPluginConfig {
  name: string;
  root_id: string;
  vm_config: { vm_id: string; runtime: string; code: WasmCode };
  configuration: { '@type': typeof STRING_VALUE_TYPE; value: string };
  /** Envoy ≥ 1.33. */
  failure_policy?: 'FAIL_CLOSED' | 'FAIL_OPEN';
  /** Deprecated in Envoy 1.33, the only field older proxies know. */
  fail_open?: boolean;
}

export interface WasmFilter {
  '@type': typeof WASM_FILTER_TYPE;
  config: WasmPluginConfig;
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
    virtual_hosts: Array<{
      name: string;
      domains: string[];
      routes: Array<{ match: { prefix: string }; route: { cluster: string; timeout?: string } }>;
    }>;
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
  static_resources: { listeners: Listener[]; clusters: Cluster[] };
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
   * The rate-limit service's HTTP/JSON address; required when the configuration has a
   * `rateLimitService` (limitMode Global rules), whose `cluster` names the cluster built for it.
   */
  rls?: HostPort;
  /**
   * The route's `timeout` (ms): no complete response from the upstream by then → 504. Absent: not
   * emitted, so Envoy's own default (15 s) applies.
   */
  upstreamTimeoutMs?: number;
  /** `--upstream-protocol`: default http1 (nothing emitted); http2 for gRPC upstreams. */
  upstreamProtocol?: UpstreamProtocol;
  /** `--xds`: the sergo filter's configuration comes from `sergo xds` over ECDS (docs/xds.md). */
  xds?: XdsBootstrapOptions;
}

export interface XdsBootstrapOptions {
  /** Where `sergo xds --listen` listens (gRPC). */
  server: HostPort;
  /** The ECDS resource (the HTTP filter's name): `sergo/<namespace>/<app>`. */
  resourceName: string;
  /** What the filter runs until the first answer (and when none comes within the initial fetch timeout). */
  defaultConfig: FilterConfig;
  node: { id: string; cluster: string };
}

export function emitEnvoyBootstrap(config: FilterConfig, options: EnvoyBootstrapOptions): EnvoyBootstrap {
  const code: WasmCode = { local: { filename: options.modulePath } };
  const xds = options.xds;
  const sergo = xds === undefined ? sergoHttpFilter(config, code, options.failPolicy) : discoveredHttpFilter(xds, code, options.failPolicy);
  // The ECDS form has config_discovery instead of typed_config; the HCM takes either.
  const httpFilters = [sergo as HttpFilter, routerHttpFilter()];
  const clusters = [upstreamCluster(options)];
  if (xds !== undefined) clusters.push(xdsCluster(xds.server));
  const service = config.rateLimitService;
  if (service !== undefined) {
    if (options.rls === undefined) throw new Error('the configuration has Global rate limits: the rate-limit service address (rls) is required');
    if (service.cluster === UPSTREAM_CLUSTER) throw new Error(`the rate-limit service cluster must not be named ${UPSTREAM_CLUSTER}`);
    clusters.push(staticCluster(service.cluster, options.rls, RLS_CONNECT_TIMEOUT));
  }
  return {
    ...(xds === undefined ? {} : xdsBootstrapFields(xds)),
    admin: { address: socketAddress(options.admin) },
    stats_config: { stats_tags: metricStatsTags() },
    static_resources: {
      listeners: [httpListener('sergo_http', options.listen, UPSTREAM_CLUSTER, httpFilters, options.upstreamTimeoutMs)],
      clusters,
    },
  };
}

export function renderEnvoyBootstrap(bootstrap: EnvoyBootstrap, options: Pick<EnvoyBootstrapOptions, 'modulePath'>): string {
  return renderYaml(bootstrap, [
    'Envoy bootstrap generated by `sergo translate --format envoy`. Do not edit: change the rules and translate again.',
    `Needs Envoy 1.33 or newer (failure_policy) and the module at ${options.modulePath}: envoy -c <this file>`,
  ]);
}

/**
 * The Wasm PluginConfig carrying the filter configuration as a StringValue (the filter reads it raw in
 * on_configure). `failField` picks `failure_policy` (Envoy ≥ 1.33) or the deprecated `fail_open`
 * (what older proxies understand).
 */
export function wasmPluginConfig(
  config: FilterConfig,
  code: WasmCode,
  failPolicy: FailPolicy,
  failField: 'failure_policy' | 'fail_open' = 'failure_policy',
): WasmPluginConfig {
  const plugin: WasmPluginConfig = {
    name: PLUGIN_NAME,
    root_id: ROOT_ID,
    vm_config: { vm_id: VM_ID, runtime: V8_RUNTIME, code },
    configuration: { '@type': STRING_VALUE_TYPE, value: renderFilterConfig(config) },
  };
  if (failField === 'failure_policy') plugin.failure_policy = failPolicy === 'open' ? 'FAIL_OPEN' : 'FAIL_CLOSED';
  else plugin.fail_open = failPolicy === 'open';
  return plugin;
}

export function sergoHttpFilter(config: FilterConfig, code: WasmCode, failPolicy: FailPolicy): HttpFilter {
  const typed: WasmFilter = { '@type': WASM_FILTER_TYPE, config: wasmPluginConfig(config, code, failPolicy) };
  return { name: WASM_FILTER_NAME, typed_config: { ...typed } };
}

/**
 * The sergo filter over ECDS (from `sergo xds`, docs/xds.md): Envoy waits for the first answer
 * (warming, up to XDS_INITIAL_FETCH_TIMEOUT) and runs `defaultConfig` if none comes.
 */
export function discoveredHttpFilter(xds: XdsBootstrapOptions, code: WasmCode, failPolicy: FailPolicy): DiscoveredHttpFilter {
  return {
    name: xds.resourceName,
    config_discovery: {
      config_source: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: XDS_INITIAL_FETCH_TIMEOUT },
      default_config: { '@type': WASM_FILTER_TYPE, config: wasmPluginConfig(xds.defaultConfig, code, failPolicy) },
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

function xdsBootstrapFields(xds: XdsBootstrapOptions): Pick<EnvoyBootstrap, 'node' | 'dynamic_resources'> {
  return {
    node: xds.node,
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
  return METRIC_TAGS.map((tag) => ({ tag_name: tag, regex: `(${tag}=\\.=(.*?);\\.;)` }));
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
