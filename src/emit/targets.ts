// The targets of `sergo translate --format`: what each needs besides the deployment, the knowledge of
// each (Istio's cluster names, where a module comes from, manifest names and namespaces, the ECDS
// form) and the dispatch that renders one. The CLI (src/cli/formats.ts) only parses flags into a
// TargetPlan; messages name the flags they concern.
import type { ModuleUrl } from '../address.ts';
import type { RateLimitServiceOptions } from '../ir/deployment.ts';
import { ruleNamespaces, usesRateLimitService } from '../ir/deployment.ts';
import type { Deployment } from '../ir/model.ts';
import { emitEnvoyBootstrap, renderEnvoyBootstrap, UPSTREAM_CLUSTER, type EnvoyBootstrapOptions } from './envoy.ts';
import { envoyTrafficProblems } from './envoy-routes.ts';
import { emitIstioTraffic, istioTrafficProblems, renderIstioTraffic } from './istio-traffic.ts';
import { emitEnvoyFilter, localCode, remoteCode, renderEnvoyFilter, type EnvoyFilterOptions } from './envoyfilter.ts';
import { renderFilterConfig, emitFilterConfig } from './filter.ts';
import { addIstioLaneRoutes, emitLaneCarrier, istioLaneProblems, renderLaneCarrier } from './istio-lanes.ts';
import {
  defaultResourceName,
  emitWasmPlugin,
  isDnsSubdomain,
  istioClusterHostProblem,
  istioServiceCluster,
  renderWasmPlugin,
  type WasmPluginOptions,
} from './istio.ts';
import type { WasmCode } from './wasm-plugin.ts';

export const FORMATS = ['filter', 'envoy', 'istio', 'envoyfilter'] as const;
export type Format = (typeof FORMATS)[number];

/** What to produce, less what comes from the deployment (namespace, app) and with the name optional. */
export type TargetPlan =
  | { format: 'filter' }
  | { format: 'envoy'; options: EnvoyBootstrapOptions }
  | ({ format: 'istio'; name?: string } & Omit<WasmPluginOptions, 'name'>)
  | ({ format: 'envoyfilter'; name?: string } & Omit<EnvoyFilterOptions, 'name'>);

/** The rate-limit service of limitMode Global rules as the target sees it. */
export interface ServicePlan {
  /** What the deployment's service is built from (rateLimitService() fills in the rest). */
  service: RateLimitServiceOptions;
  /** With Global rules, the error when the target lacks something it needs. */
  missing?: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** `limitMode: GlobalToLocal` divides a budget by the instances running: only `sergo xds` can (the `--xds` bootstrap). */
export function acceptsGlobalToLocal(plan: TargetPlan): boolean {
  return plan.format === 'envoy' && plan.options.xds !== undefined;
}

/**
 * The service from the --rls… flags (`service` holds what was given; `endpoint` is --rls). In Istio a
 * cluster is named `outbound|PORT||HOST`, so for istio and envoyfilter the cluster and authority
 * come from --rls (explicit --rls-cluster / --rls-authority win); the envoy format builds a cluster
 * named --rls-cluster pointing at --rls. Problems of the flags go to `errors`.
 */
export function planService(format: Format, given: RateLimitServiceOptions, errors: string[]): ServicePlan {
  const service = { ...given };
  const needs = `the rules have limitMode Global, counted by a rate-limit service: --format ${format} needs`;
  switch (format) {
    case 'filter':
      return { service };
    case 'envoy':
      if (given.cluster === UPSTREAM_CLUSTER) errors.push(`--rls-cluster: "${UPSTREAM_CLUSTER}" is the cluster requests go to; choose another name`);
      if (given.endpoint !== undefined) return { service };
      return { service, missing: `${needs} --rls http://HOST:PORT, the service's HTTP/JSON address (e.g. where \`sergo rls --listen\` listens)` };
    case 'istio':
    case 'envoyfilter':
      return planIstioService(given, service, needs, errors);
  }
}

function planIstioService(given: RateLimitServiceOptions, service: RateLimitServiceOptions, needs: string, errors: string[]): ServicePlan {
  const { endpoint } = given;
  if (endpoint === undefined) {
    if (given.cluster !== undefined) return { service };
    const missing = `${needs} --rls http://HOST:PORT, the service as the proxies reach it (Istio names its cluster outbound|PORT||HOST), e.g. http://sergo-rls.sergo-system.svc.cluster.local:8080`;
    return { service, missing };
  }
  const problem = istioClusterHostProblem(endpoint.host);
  if (problem !== undefined) errors.push(`--rls: ${problem}`);
  service.cluster ??= istioServiceCluster(endpoint);
  service.authority ??= endpoint.host;
  return { service };
}

/** Where an EnvoyFilter's module comes from: a path in the proxy, or a URL with the digest (if any). */
export type ModuleSource = { path: string } | { url: ModuleUrl; sha256?: string };

/** The module as Envoy fetches it: a local file, or a remote one Envoy verifies by its SHA-256. */
export function moduleCode(source: ModuleSource): Checked<WasmCode> {
  if ('path' in source) return { ok: true, value: localCode(source.path) };
  const { url, sha256 } = source;
  if (url.scheme === 'file') return { ok: true, value: localCode(url.path!) };
  if (sha256 === undefined) {
    return { ok: false, errors: [`--url ${url.scheme}://… needs --sha256 (Envoy verifies remote modules; \`sergo package\` prints the digests)`] };
  }
  return { ok: true, value: remoteCode(url.url, sha256) };
}

/** Renders the deployment for the planned target; errors concern the input as a whole. */
export function renderTarget(plan: TargetPlan & { rls: ServicePlan }, deployment: Deployment): Checked<string> {
  if (plan.rls.missing !== undefined && usesRateLimitService(deployment)) return { ok: false, errors: [plan.rls.missing] };
  switch (plan.format) {
    case 'filter':
      return { ok: true, value: renderFilterConfig(emitFilterConfig(deployment)) };
    case 'envoy': {
      const problem = plan.options.xds === undefined ? undefined : ecdsProblem(deployment);
      if (problem !== undefined) return { ok: false, errors: [problem] };
      const traffic = deployment.traffic === undefined ? [] : envoyTrafficProblems(deployment.traffic, plan.options.endpoints);
      if (traffic.length > 0) return { ok: false, errors: traffic };
      return { ok: true, value: renderEnvoyBootstrap(emitEnvoyBootstrap(deployment, plan.options), plan.options) };
    }
    case 'istio':
      return renderIstio(plan, deployment);
    case 'envoyfilter': {
      if ((deployment.traffic?.routers.length ?? 0) > 0) {
        return { ok: false, errors: ['--format envoyfilter carries the sergo filter only, not TrafficRouters: translate the routers with --format istio (VirtualService, DestinationRule), the rules with --format envoyfilter'] };
      }
      const name = manifestName('envoyfilter', plan.name, deployment);
      if (!name.ok) return name;
      const options = { name: name.value, code: plan.code, failPolicy: plan.failPolicy, traffic: plan.traffic };
      return { ok: true, value: renderEnvoyFilter(emitEnvoyFilter(deployment, options)) };
    }
  }
}

/** The WasmPlugin of the rules (when there are rules or lanes), the lanes' carrier, then the routers' VirtualServices and DestinationRules. */
function renderIstio(plan: Extract<TargetPlan, { format: 'istio' }>, deployment: Deployment): Checked<string> {
  const routes = deployment.traffic;
  const problems = routes === undefined ? [] : istioTrafficProblems(routes);
  if (problems.length > 0) return { ok: false, errors: problems };
  let manifests = routes === undefined ? [] : emitIstioTraffic(routes);
  if (routes !== undefined && deployment.lanes !== undefined) {
    const laneProblems = istioLaneProblems(manifests, deployment.lanes, routes);
    if (laneProblems.length > 0) return { ok: false, errors: laneProblems };
    manifests = addIstioLaneRoutes(manifests, deployment.lanes, routes);
  }
  const traffic = manifests.length === 0 ? '' : renderIstioTraffic(manifests);
  if (deployment.rules.length === 0 && deployment.lanes === undefined && manifests.length > 0) return { ok: true, value: traffic };
  const name = manifestName('istio', plan.name, deployment);
  if (!name.ok) return name;
  const { url, sha256, phase, priority, failPolicy, traffic: listeners } = plan;
  const options = { name: name.value, url, sha256, phase, priority, failPolicy, traffic: listeners };
  const carrier = emitLaneCarrier(deployment, options);
  const docs = [renderWasmPlugin(emitWasmPlugin(deployment, options)), ...(carrier === undefined ? [] : [renderLaneCarrier(carrier)]), ...(traffic === '' ? [] : [traffic])];
  return { ok: true, value: docs.join('---\n') };
}

/** `--xds`: the ECDS resource is the app's (`sergo/<namespace>/<app>`), so one app in one namespace. */
function ecdsProblem(deployment: Deployment): string | undefined {
  if (deployment.app === undefined) return '--xds serves the rules of one app, but the files hold no FaultToleranceRule; name the app with --app';
  if (deployment.namespace !== undefined) return undefined;
  const namespaces = ruleNamespaces(deployment.rules).join(', ');
  return `the rules of app ${deployment.app} are in several namespaces (${namespaces}); with --xds an Envoy takes one namespace's rules: translate each namespace's files separately`;
}

/** The name of a Kubernetes manifest that selects the app's pods in the deployment's namespace. */
function manifestName(format: 'istio' | 'envoyfilter', nameFlag: string | undefined, deployment: Deployment): Checked<string> {
  if (deployment.app === undefined) {
    return { ok: false, errors: [`--format ${format} selects the pods of one app, but the files hold no FaultToleranceRule; name the app with --app`] };
  }
  const errors: string[] = [];
  if (deployment.namespace === undefined) {
    const kind = format === 'istio' ? 'WasmPlugin' : 'EnvoyFilter';
    errors.push(
      `the rules of app ${deployment.app} are in several namespaces (${ruleNamespaces(deployment.rules).join(', ')}); a ${kind} applies in one namespace: translate each namespace's files separately`,
    );
  }
  const name = nameFlag ?? defaultResourceName(deployment.app);
  if (!isDnsSubdomain(name)) {
    errors.push(
      nameFlag === undefined
        ? `the default name "${name}" is not a valid Kubernetes name (lower-case RFC 1123 subdomain); choose one with --name`
        : `--name: "${name}" is not a valid Kubernetes name (lower-case RFC 1123 subdomain)`,
    );
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: name };
}
