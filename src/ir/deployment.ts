// Building the deployment model (src/ir/model.ts: Deployment) from the selected rules and the
// settings every target shares: the rate-limit service (defaulted here, the one place that knows
// `sergo_rls`) and the filter's options. validateDeployment (./validate.ts) holds its invariants.
import type { HostPort } from '../address.ts';
import { laneSetOf, type Lane } from './lane.ts';
import type { Deployment, FilterOptions, RateLimitService, Rule } from './model.ts';
import type { Traffic } from './traffic.ts';

/** The namespace of objects that name none (kubectl's rule). */
export const DEFAULT_NAMESPACE = 'default';

export const DEFAULT_RLS_CLUSTER = 'sergo_rls';
/** The HTTP/JSON endpoint of Envoy's reference rate-limit service and of `sergo rls`. */
export const RLS_PATH = '/json';
export const DEFAULT_RLS_DOMAIN = 'sergo';
export const DEFAULT_RLS_TIMEOUT_MS = 20;

/** The rate-limit service settings (`sergo translate --rls…`); each defaults when absent. */
export interface RateLimitServiceOptions {
  /** Default `sergo_rls`. */
  cluster?: string;
  /** Default: the cluster name. */
  authority?: string;
  /** Default `sergo`. */
  domain?: string;
  /** Default 20. */
  timeoutMs?: number;
  /** Where the service listens (`--rls`); the envoy bootstrap needs it with Global rules. */
  endpoint?: HostPort;
}

export function rateLimitService(options: RateLimitServiceOptions = {}): RateLimitService {
  const cluster = options.cluster ?? DEFAULT_RLS_CLUSTER;
  const service: RateLimitService = {
    cluster,
    authority: options.authority ?? cluster,
    path: RLS_PATH,
    domain: options.domain ?? DEFAULT_RLS_DOMAIN,
    timeoutMs: options.timeoutMs ?? DEFAULT_RLS_TIMEOUT_MS,
  };
  if (options.endpoint !== undefined) service.endpoint = options.endpoint;
  return service;
}

export interface DeploymentInput {
  /** The app asked for; default: the rules' app. */
  app?: string;
  /** `--namespace`: the deployment's namespace when there is no rule. Default `default`. */
  defaultNamespace?: string;
  rules: readonly Rule[];
  rateLimitService?: RateLimitServiceOptions;
  options?: FilterOptions;
  /** Every valid TrafficLane; the deployment keeps those of its namespace. */
  lanes?: readonly Lane[];
  /** The proxy carries the app's outbound calls: lanes are carried, not coloured (`--outbound`). */
  outbound?: boolean;
  /** The input's TrafficRouters and DestinationRules (every app's: routing is by host). */
  traffic?: Traffic;
}

/** The deployment of `input.rules` (not yet validated: validateDeployment). */
export function buildDeployment(input: DeploymentInput): Deployment {
  const namespaces = ruleNamespaces(input.rules);
  // Without rules, lanes of one namespace place the deployment there (a TrafficLane names its own).
  const laneNamespaces = [...new Set((input.lanes ?? []).map((l) => l.origin.namespace))];
  const fallbackNamespace = laneNamespaces.length === 1 ? laneNamespaces[0]! : (input.defaultNamespace ?? DEFAULT_NAMESPACE);
  const namespace = namespaces.length === 0 ? fallbackNamespace : namespaces.length === 1 ? namespaces[0] : undefined;
  const lanes = namespace === undefined ? undefined : laneSetOf(input.lanes ?? [], namespace, input.outbound === true);
  const entryApps = [...new Set(lanes?.lanes.map((l) => l.entryApp))];
  const app = input.app ?? input.rules[0]?.app ?? (entryApps.length === 1 ? entryApps[0] : undefined);
  return {
    ...(app === undefined ? {} : { app }),
    ...(namespace === undefined ? {} : { namespace }),
    rules: [...input.rules],
    rateLimitService: rateLimitService(input.rateLimitService),
    options: { ...input.options },
    ...(lanes === undefined ? {} : { lanes }),
    ...(input.traffic === undefined ? {} : { traffic: input.traffic }),
  };
}

/** The namespaces of the rules, sorted. */
export function ruleNamespaces(rules: readonly Rule[]): string[] {
  return [...new Set(rules.map((r) => r.namespace))].sort();
}

/** A rule counted by the rate-limit service (`limitMode: Global`). */
export function isGlobal(rule: Rule): boolean {
  return rule.strategy.spec.kind === 'RateLimit' && rule.strategy.spec.global !== undefined;
}

/** True when the deployment needs its rate-limit service. */
export function usesRateLimitService(deployment: Deployment): boolean {
  return deployment.rules.some(isGlobal);
}
