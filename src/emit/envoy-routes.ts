// Traffic (src/ir/traffic.ts) → Envoy routes for the bootstrap (`--format envoy --endpoints FILE`):
// one virtual host per TrafficRouter (its hosts as domains, short names also as name.NS,
// name.NS.svc and the FQDN), one route per match block (Envoy ANDs inside a route; the blocks of an
// Istio route OR, so each becomes a route of its own, in order: the first that matches wins), and the
// clusters they name (src/emit/subset-clusters.ts). What Envoy cannot do here is refused by
// envoyTrafficProblems, by field and position, before anything is emitted.
import { formatPos } from '../diagnostics.ts';
import type { HeaderOperations, HttpRoute, KeyMatch, RequestMatch, StringMatch, Traffic, TrafficRouter, Destination, EndpointTable } from '../ir/traffic.ts';
import { CLUSTER_DOMAIN } from '../ir/traffic.ts';
import { missingEndpoints, targetClusterName, type ClusterTarget } from './subset-clusters.ts';

export const FAULT_FILTER_NAME = 'envoy.filters.http.fault';
export const FAULT_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const REDIRECT_CODES: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

type Json = Record<string, unknown>;

export interface EnvoyRoute {
  name: string;
  match: Json;
  route?: Json;
  redirect?: Json;
  direct_response?: Json;
  request_headers_to_add?: Json[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: Json[];
  response_headers_to_remove?: string[];
  typed_per_filter_config?: Json;
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Array<EnvoyRoute | { match: { prefix: string }; route: { cluster: string; timeout?: string } }>;
}

export interface TrafficRoutes {
  virtualHosts: VirtualHost[];
  /** What the routes send to, for emitSubsetClusters. */
  targets: ClusterTarget[];
  /** Some route injects faults: the HTTP filter chain needs envoy.filters.http.fault. */
  fault: boolean;
}

/** Every reason the traffic cannot be expressed in the bootstrap, as `file:line:col: Kind/name: field: why`. */
export function envoyTrafficProblems(traffic: Traffic, endpoints: EndpointTable | undefined): string[] {
  const problems: string[] = [];
  const at = (router: TrafficRouter, w: { pos: Parameters<typeof formatPos>[0]; field: string }, why: string) =>
    problems.push(`${formatPos(w.pos)}: TrafficRouter/${router.origin.name}: ${w.field}: ${why}`);
  for (const router of traffic.routers) {
    if (router.gateways !== undefined) at(router, router.gateways, 'Istio gateways cannot be expressed in --format envoy (one proxy, no gateways): remove it or use --format istio');
    for (const http of router.http) {
      for (const m of http.match) {
        for (const w of m.istioOnly.written) at(router, w, `cannot be expressed in --format envoy (the bootstrap knows no client workloads, gateways or listener ports): remove it or use --format istio`);
      }
      if (http.rewrite?.uri !== undefined && http.match.some((m) => m.uri === undefined || m.uri.kind === 'regex')) {
        at(router, http.rewrite, 'rewrite.uri in --format envoy needs every match block to match uri by exact or prefix (what it replaces); use rewrite.uriRegexRewrite');
      }
    }
  }
  problems.push(...domainClashes(traffic.routers));
  if (endpoints === undefined) {
    if (traffic.routers.length > 0) problems.push('the input has TrafficRouters: --format envoy needs --endpoints FILE, the addresses and labels of each host (docs/traffic.md)');
    return problems;
  }
  for (const host of missingEndpoints(trafficTargets(traffic), endpoints)) problems.push(`--endpoints: no entry for ${host}, which a TrafficRouter routes to`);
  return problems;
}

/** The virtual hosts (before the default one) and what they route to. */
export function emitTrafficRoutes(traffic: Traffic): TrafficRoutes {
  const virtualHosts = traffic.routers.map((router) => ({
    name: `${router.origin.namespace}/${router.origin.name}`,
    domains: domainsOf(router),
    routes: router.http.flatMap((http, i) => routesOf(router, http, i)),
  }));
  const fault = traffic.routers.some((r) => r.http.some((h) => h.fault !== undefined));
  return { virtualHosts, targets: trafficTargets(traffic), fault };
}

/** Every cluster target of the routers, in order of use. */
export function trafficTargets(traffic: Traffic): ClusterTarget[] {
  return traffic.routers.flatMap((router) =>
    router.http.flatMap((h) => [...h.route.map((w) => clusterTarget(w.destination)), ...(h.mirror === undefined ? [] : [clusterTarget(h.mirror.destination)])]),
  );
}

function clusterTarget(d: Destination): ClusterTarget {
  const primary = { host: d.host, ...(d.subset === undefined ? {} : { subset: d.subset }) };
  if (d.fallback === undefined) return { primary };
  return { primary, fallback: { host: d.fallback.host, ...(d.fallback.subset === undefined ? {} : { subset: d.fallback.subset }) } };
}

/** As written, and for a short name (`reviews` of namespace shop) every name Kubernetes DNS gives it. */
function domainsOf(router: TrafficRouter): string[] {
  const ns = router.origin.namespace;
  const domains = router.hosts.flatMap((h) => (h.includes('.') || h.startsWith('*') ? [h] : [h, `${h}.${ns}`, `${h}.${ns}.svc`, `${h}.${ns}.${CLUSTER_DOMAIN}`]));
  return [...new Set(domains)];
}

/** Envoy refuses a route configuration in which two virtual hosts claim one domain. */
function domainClashes(routers: readonly TrafficRouter[]): string[] {
  const owner = new Map<string, TrafficRouter>();
  const problems: string[] = [];
  for (const router of routers) {
    const clashes = new Map<TrafficRouter, string[]>();
    for (const domain of domainsOf(router)) {
      const first = owner.get(domain);
      if (first === undefined) owner.set(domain, router);
      else if (first !== router) clashes.set(first, [...(clashes.get(first) ?? []), domain]);
    }
    for (const [first, domains] of clashes) {
      problems.push(`${formatPos(router.origin.pos)}: TrafficRouter/${router.origin.name}: spec.hosts: ${domains.join(', ')} ${domains.length === 1 ? 'is a host' : 'are hosts'} of TrafficRouter/${first.origin.name} too (${formatPos(first.origin.pos)}); one router per host`);
    }
  }
  return problems;
}

function routesOf(router: TrafficRouter, http: HttpRoute, index: number): EnvoyRoute[] {
  const name = http.name ?? `${router.origin.name}.${index}`;
  const blocks: Array<RequestMatch | undefined> = http.match.length === 0 ? [undefined] : http.match;
  return blocks.map((m, i) => ({ name: blocks.length === 1 ? name : `${name}.${m?.name ?? i}`, match: routeMatch(m), ...actionOf(http, m) }));
}

function routeMatch(m: RequestMatch | undefined): Json {
  if (m === undefined) return { prefix: '/' };
  const out: Json = pathMatch(m.uri, m.ignoreUriCase);
  const headers = [
    ...pseudo(':method', m.method),
    ...pseudo(':authority', m.authority),
    ...pseudo(':scheme', m.scheme),
    ...m.headers.map((h) => keyMatcher(h, false)),
    ...m.withoutHeaders.map((h) => keyMatcher(h, true)),
  ];
  if (headers.length > 0) out.headers = headers;
  if (m.queryParams.length > 0) out.query_parameters = m.queryParams.map((q) => (q.match === undefined ? { name: q.name, present_match: true } : { name: q.name, string_match: stringMatcher(q.match) }));
  return out;
}

function pathMatch(uri: StringMatch | undefined, ignoreCase: boolean): Json {
  const caseless = ignoreCase ? { case_sensitive: false } : {};
  if (uri === undefined) return { prefix: '/' };
  switch (uri.kind) {
    case 'exact':
      return { path: uri.value, ...caseless };
    case 'prefix':
      return { prefix: uri.value, ...caseless };
    case 'regex':
      // case_sensitive does not apply to safe_regex: RE2's own flag does.
      return { safe_regex: { regex: ignoreCase ? `(?i)${uri.value}` : uri.value } };
  }
}

function pseudo(name: string, match: StringMatch | undefined): Json[] {
  return match === undefined ? [] : [{ name, string_match: stringMatcher(match) }];
}

function keyMatcher(k: KeyMatch, invert: boolean): Json {
  const base = k.match === undefined ? { name: k.name, present_match: true } : { name: k.name, string_match: stringMatcher(k.match) };
  return invert ? { ...base, invert_match: true } : base;
}

function stringMatcher(m: StringMatch): Json {
  return m.kind === 'regex' ? { safe_regex: { regex: m.value } } : { [m.kind]: m.value };
}

function actionOf(http: HttpRoute, block: RequestMatch | undefined): Omit<EnvoyRoute, 'name' | 'match'> {
  const out: Omit<EnvoyRoute, 'name' | 'match'> = { ...headerOps(http.headers) };
  if (http.redirect !== undefined) {
    const r = http.redirect;
    out.redirect = {
      ...(r.uri === undefined ? {} : { path_redirect: r.uri }),
      ...(r.authority === undefined ? {} : { host_redirect: r.authority }),
      ...(r.port === undefined ? {} : { port_redirect: r.port }),
      ...(r.scheme === undefined ? {} : { scheme_redirect: r.scheme }),
      response_code: REDIRECT_CODES[r.redirectCode],
    };
  } else if (http.directResponse !== undefined) {
    const d = http.directResponse;
    out.direct_response = { status: d.status, ...(d.body === undefined ? {} : { body: { inline_string: d.body } }) };
  } else out.route = routeAction(http, block);
  if (http.fault !== undefined) out.typed_per_filter_config = { [FAULT_FILTER_NAME]: faultConfig(http.fault) };
  return out;
}

/** `block`: the match block of this Envoy route (what rewrite.uri replaces: a whole exact path, or a prefix). */
function routeAction(http: HttpRoute, block: RequestMatch | undefined): Json {
  const weighted = http.route.filter((w) => w.weight > 0);
  const single = weighted.length === 1 && weighted[0]!.headers === undefined;
  const out: Json = single
    ? { cluster: targetClusterName(clusterTarget(weighted[0]!.destination)) }
    : { weighted_clusters: { clusters: weighted.map((w) => ({ name: targetClusterName(clusterTarget(w.destination)), weight: w.weight, ...headerOps(w.headers) })) } };
  // Istio's default: no route timeout (Envoy's would be 15 s).
  out.timeout = `${(http.timeoutMs ?? 0) / 1000}s`;
  const rw = http.rewrite;
  if (rw?.uri !== undefined) {
    if (block?.uri?.kind === 'exact') out.regex_rewrite = { pattern: { regex: '^.*$' }, substitution: rw.uri };
    else out.prefix_rewrite = rw.uri;
  }
  if (rw?.uriRegex !== undefined) out.regex_rewrite = { pattern: { regex: rw.uriRegex.match }, substitution: rw.uriRegex.rewrite };
  if (rw?.authority !== undefined) out.host_rewrite_literal = rw.authority;
  if (http.retries !== undefined) out.retry_policy = retryPolicy(http.retries);
  if (http.mirror !== undefined) {
    out.request_mirror_policies = [{ cluster: targetClusterName(clusterTarget(http.mirror.destination)), runtime_fraction: { default_value: fraction(http.mirror.percent) } }];
  }
  return out;
}

/** Istio's default conditions when `retryOn` is not given. */
export const ISTIO_DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

function retryPolicy(r: NonNullable<HttpRoute['retries']>): Json {
  return {
    retry_on: r.retryOn ?? ISTIO_DEFAULT_RETRY_ON,
    num_retries: r.attempts,
    ...(r.perTryTimeoutMs === undefined ? {} : { per_try_timeout: `${r.perTryTimeoutMs / 1000}s` }),
  };
}

function faultConfig(f: NonNullable<HttpRoute['fault']>): Json {
  return {
    '@type': FAULT_FILTER_TYPE,
    ...(f.delay === undefined ? {} : { delay: { fixed_delay: `${f.delay.fixedDelayMs / 1000}s`, percentage: fraction(f.delay.percent) } }),
    ...(f.abort === undefined ? {} : { abort: { http_status: f.abort.httpStatus, percentage: fraction(f.abort.percent) } }),
  };
}

/** 0..100 as an Envoy FractionalPercent (per million: Istio's percentages are doubles). */
function fraction(percent: number): Json {
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}

function headerOps(ops: HeaderOperations | undefined): Partial<EnvoyRoute> {
  if (ops === undefined) return {};
  const add = (o: HeaderOperations['request']) => [
    ...o.set.map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...o.add.map(([key, value]) => ({ header: { key, value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
  const out: Partial<EnvoyRoute> = {};
  if (ops.request.set.length + ops.request.add.length > 0) out.request_headers_to_add = add(ops.request);
  if (ops.request.remove.length > 0) out.request_headers_to_remove = ops.request.remove;
  if (ops.response.set.length + ops.response.add.length > 0) out.response_headers_to_add = add(ops.response);
  if (ops.response.remove.length > 0) out.response_headers_to_remove = ops.response.remove;
  return out;
}
