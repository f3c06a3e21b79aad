// The traffic part of the model: OpenSergo TrafficRouter (an Istio VirtualService with
// `destination.fallback`) normalized, the subsets of each service (Istio DestinationRule, or the
// default), and the endpoints a static target routes to. Parsers (src/spec/traffic) produce it;
// targets (src/emit/istio-traffic.ts, src/emit/envoy-routes.ts, src/emit/subset-clusters.ts) consume
// it. Hosts are fully qualified (`name.namespace.svc.cluster.local`) wherever they are compared.
import type { HostPort } from '../address.ts';
import type { SourcePos } from '../diagnostics.ts';

export type Labels = Readonly<Record<string, string>>;

/** Where an object came from (as model.ts's Origin, which this module cannot import: model.ts imports it). */
export interface TrafficOrigin<K extends string> {
  kind: K;
  namespace: string;
  name: string;
  /** Position of the object's `metadata.name`. */
  pos: SourcePos;
}

/** A place in the input: where to point a message about a field (`spec.http[0].match[1].port`). */
export interface Written {
  pos: SourcePos;
  field: string;
}

/** Istio StringMatch: one of exact | prefix | regex (RE2, full match), case-sensitive. */
export interface StringMatch extends Written {
  kind: 'exact' | 'prefix' | 'regex';
  value: string;
}

/** A header or query parameter condition; `match` absent means "present" (an empty StringMatch). */
export interface KeyMatch extends Written {
  /** Header names lower-case; query parameter names as written. */
  name: string;
  match?: StringMatch;
}

/** Fields of a match block only some targets express (Istio keeps them; Envoy output refuses them). */
export interface IstioOnlyMatch {
  port?: number;
  sourceLabels?: Labels;
  gateways?: string[];
  sourceNamespace?: string;
  /** Where each of the fields above is written, in source order. */
  written: Written[];
}

/** One match block: every condition must hold (AND). The blocks of a route OR. */
export interface RequestMatch extends Written {
  name?: string;
  uri?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  scheme?: StringMatch;
  headers: KeyMatch[];
  withoutHeaders: KeyMatch[];
  queryParams: KeyMatch[];
  ignoreUriCase: boolean;
  istioOnly: IstioOnlyMatch;
}

/** A host and one of its subsets (absent: every endpoint of the host). */
export interface SubsetRef {
  /** Fully qualified. */
  host: string;
  subset?: string;
}

export interface Destination extends SubsetRef, Written {
  /** As written (a short name is qualified with the router's namespace in `host`). */
  writtenHost: string;
  port?: number;
  /** OpenSergo's extension: where requests go when the chosen subset has no (healthy) endpoint. */
  fallback?: SubsetRef & Written & { writtenHost: string; port?: number };
}

/** Istio Headers: operations on the request and the response. */
export interface HeaderOperations {
  request: HeaderOps;
  response: HeaderOps;
}
export interface HeaderOps {
  /** Lower-case names; set replaces, add appends. */
  set: Array<[name: string, value: string]>;
  add: Array<[name: string, value: string]>;
  remove: string[];
}

export interface WeightedDestination extends Written {
  destination: Destination;
  /** Relative share; the weights of a route sum to more than 0. */
  weight: number;
  headers?: HeaderOperations;
}

export interface Rewrite extends Written {
  uri?: string;
  /** Istio uriRegexRewrite: RE2 `match` replaced by `rewrite` (\1 references groups). */
  uriRegex?: { match: string; rewrite: string };
  authority?: string;
}

export interface Redirect extends Written {
  uri?: string;
  authority?: string;
  port?: number;
  scheme?: string;
  /** 301 (Istio's default), 302, 303, 307 or 308. */
  redirectCode: number;
}

export interface DirectResponse extends Written {
  status: number;
  body?: string;
}

export interface Retries extends Written {
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy retry_on conditions, comma-separated, as written; absent: Istio's default. */
  retryOn?: string;
}

export interface Fault extends Written {
  /** Delay `percent` (0..100) of requests by `fixedDelayMs`. */
  delay?: { fixedDelayMs: number; percent: number };
  /** Answer `percent` of requests with `httpStatus` without calling the destination. */
  abort?: { httpStatus: number; percent: number };
}

export interface Mirror extends Written {
  destination: Destination;
  /** 0..100; Istio's default is 100. */
  percent: number;
}

/** One entry of `spec.http`: what to do with a request its match blocks select. */
export interface HttpRoute extends Written {
  name?: string;
  /** OR; empty: every request. */
  match: RequestMatch[];
  /** Exactly one of route / redirect / directResponse is set (validated). */
  route: WeightedDestination[];
  redirect?: Redirect;
  directResponse?: DirectResponse;
  rewrite?: Rewrite;
  timeoutMs?: number;
  retries?: Retries;
  fault?: Fault;
  mirror?: Mirror;
  headers?: HeaderOperations;
}

export interface TrafficRouter {
  origin: TrafficOrigin<'TrafficRouter'>;
  /** `metadata.labels.app`, when given. */
  app?: string;
  /** As written, and fully qualified (same order). */
  hosts: string[];
  fqdnHosts: string[];
  /** Istio-only `spec.gateways` (Envoy output refuses them). */
  gateways?: Written & { names: string[] };
  /** In order: the first route whose match holds wins. */
  http: HttpRoute[];
}

/** A named subset of a service's endpoints. */
export interface ServiceSubset {
  /** Fully qualified. */
  host: string;
  name: string;
  labels: Labels;
  /** `DestinationRule`: written in one; `default`: none was, so `{version: <name>}` is assumed. */
  source: 'DestinationRule' | 'default';
  pos?: SourcePos;
}

/** An Istio DestinationRule of the input, normalized (Istio output passes it through). */
export interface DestinationRule {
  origin: TrafficOrigin<'DestinationRule'>;
  apiVersion: string;
  host: string;
  /** The object's `spec` as written (JSON), emitted unchanged. */
  spec: Record<string, unknown>;
}

export interface Traffic {
  routers: TrafficRouter[];
  /** Every subset a router names, and every subset a DestinationRule defines; by host, then name. */
  subsets: ServiceSubset[];
  destinationRules: DestinationRule[];
}

/** One address of a service (`--endpoints`), with the labels subsets select on. */
export interface Endpoint {
  address: HostPort;
  labels: Labels;
}

/** Fully qualified host → its endpoints. */
export type EndpointTable = ReadonlyMap<string, readonly Endpoint[]>;

/** The label a subset selects when no DestinationRule defines it (Istio's convention for versions). */
export const DEFAULT_SUBSET_LABEL = 'version';

export const CLUSTER_DOMAIN = 'svc.cluster.local';

/** `name` → `name.namespace.svc.cluster.local`; a name with a dot is taken as qualified already. */
export function qualifyHost(host: string, namespace: string): string {
  return host.includes('.') ? host : `${host}.${namespace}.${CLUSTER_DOMAIN}`;
}

/** The subset `name` of `host`, or undefined (then it selects every endpoint). */
export function findSubset(subsets: readonly ServiceSubset[], ref: SubsetRef): ServiceSubset | undefined {
  return ref.subset === undefined ? undefined : subsets.find((s) => s.host === ref.host && s.name === ref.subset);
}

/** Whether an endpoint's labels include every label of the subset. */
export function selects(labels: Labels, endpoint: Endpoint): boolean {
  return Object.entries(labels).every(([key, value]) => endpoint.labels[key] === value);
}
