// The intermediate model: what the translator understood, independent of OpenSergo's YAML shape and
// of the filter's JSON. Parsers (src/spec) only produce it; emitters (src/emit) only consume it.
// Durations are in milliseconds, ratios in 0..1, references resolved; positions are kept for messages.
import type { HostPort } from '../address.ts';
import type { SourcePos } from '../diagnostics.ts';
import type { Traffic } from './traffic.ts';
import type { Lane, LaneSet } from './lane.ts';

/** The OpenSergo strategy kinds the filter enforces. */
export const STRATEGY_KINDS = [
  'RateLimitStrategy',
  'ThrottlingStrategy',
  'ConcurrencyLimitStrategy',
  'CircuitBreakerStrategy',
] as const;
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

export interface RateLimit {
  kind: 'RateLimit';
  /** Requests admitted in any window (per proxy when Local, for the whole app when Global). */
  threshold: number;
  windowMs: number;
  /** Present for `limitMode: Global` (counted by a rate-limit service); absent for Local. */
  global?: GlobalLimit;
  /**
   * `limitMode: GlobalToLocal`: `threshold` is the app's budget, divided by the number of running
   * instances and enforced locally; only `sergo xds` knows that number (docs/xds.md). `pos`: where
   * limitMode is written, for the refusal of translators that cannot divide.
   */
  globalToLocal?: { pos: SourcePos };
}

/** The translator extensions of a Global RateLimitStrategy, defaulted. */
export interface GlobalLimit {
  /** Admit when the rate-limit service fails or does not answer in time (default false: block). */
  failOpen: boolean;
  /** Hits reserved per call to the service, spent locally (default 1: one call per request). */
  batch: number;
}

export interface Throttling {
  kind: 'Throttling';
  /** Minimum spacing between admitted requests (0 allowed). */
  intervalMs: number;
  queueTimeoutMs: number;
}

export interface ConcurrencyLimit {
  kind: 'ConcurrencyLimit';
  maxConcurrency: number;
}

/** Inclusive HTTP status range counted as an error. */
export type StatusRange = readonly [from: number, to: number];

interface BreakerCommon {
  kind: 'CircuitBreaker';
  /** 0..1; the breaker trips when the bad ratio reaches it. */
  triggerRatio: number;
  statDurationMs: number;
  recoveryTimeoutMs: number;
  minRequestAmount: number;
}

export interface SlowRequestRatioBreaker extends BreakerCommon {
  mode: 'SlowRequestRatio';
  maxAllowedRtMs: number;
}

export interface ErrorRequestRatioBreaker extends BreakerCommon {
  mode: 'ErrorRequestRatio';
  /** Sorted, non-overlapping; [[500, 599]] unless the strategy lists status codes. */
  errorStatus: StatusRange[];
}

export type CircuitBreaker = SlowRequestRatioBreaker | ErrorRequestRatioBreaker;

export type StrategySpec = RateLimit | Throttling | ConcurrencyLimit | CircuitBreaker;

/** Where a normalized piece came from. */
export interface Origin<K extends string = string> {
  kind: K;
  namespace: string;
  name: string;
  /** Position of the object's `metadata.name`. */
  pos: SourcePos;
}

export interface Strategy {
  origin: Origin<StrategyKind>;
  spec: StrategySpec;
}

/** The local reply sent when a rule blocks a request. */
export interface FallbackResponse {
  status: number;
  body?: string;
  /** Lower-case names, values as given; order kept. */
  headers: Array<[name: string, value: string]>;
  /** grpc-status (0..16) for a blocked gRPC call; absent: the filter's default by strategy kind. */
  grpcStatus?: number;
}

export interface Fallback extends FallbackResponse {
  origin: Origin<'HttpRequestFallbackAction'>;
}

/** One (target, strategy) pair of a FaultToleranceRule: what the filter enforces as one rule. */
export interface Rule {
  /** Stable identity: `namespace/app/ruleName/StrategyKind/strategyName@resource`. */
  id: string;
  namespace: string;
  app: string;
  /** The FaultToleranceRule's name. */
  ruleName: string;
  /** `targetResourceName`: `/path` or `METHOD:/path`, with `{name}` segments and a trailing `/**`
   *  (a gRPC `package.Service/Method` is read as `/package.Service/Method`). */
  resource: string;
  resourcePos: SourcePos;
  strategy: Strategy;
  fallback?: Fallback;
}

export interface Model {
  /** In source order: files as given, documents in order, then targets × strategies. */
  rules: Rule[];
  /** Every valid TrafficLane, in source order (src/ir/lane.ts). */
  lanes?: Lane[];
  /** TrafficRouters and DestinationRules; absent when the input has none. */
  traffic?: Traffic;
}

/** The rate-limit service that counts Global rules, defaulted (src/ir/deployment.ts). */
export interface RateLimitService {
  /** The Envoy cluster the filter calls. */
  cluster: string;
  /** `:authority` of the calls. */
  authority: string;
  /** The HTTP/JSON endpoint's path. */
  path: string;
  /** The RateLimitRequest domain. */
  domain: string;
  /** Timeout of one call. */
  timeoutMs: number;
  /** Where the service listens, when known: a bootstrap builds the cluster from it. */
  endpoint?: HostPort;
}

/** The filter's tuning (`options`, docs/filter-config.md); an absent field is the filter's default. */
export interface FilterOptions {
  /** Throttling: requests paused per worker VM before the rest get the fallback (default 1000). */
  maxQueuedPerVm?: number;
  /** Shared-data CAS attempts per decision (default 16). */
  casRetries?: number;
  /** When every attempt lost the race: block (default) or allow. */
  onCasExhausted?: 'block' | 'allow';
  /** A response header naming the refusing rule in block replies (default none). */
  ruleIdHeader?: string;
}

/**
 * What one app's proxies enforce: the contract between the translator (src/spec, src/translate.ts)
 * and every target (src/emit: the filter JSON, the Envoy bootstrap and its ECDS form, Istio's
 * WasmPlugin and EnvoyFilter; `sergo serve`; `sergo xds`). Built and checked by src/ir/deployment.ts
 * (validateDeployment holds the invariants).
 */
export interface Deployment {
  /** Every rule's app; undefined only when there is no rule and no app was asked for. */
  app?: string;
  /**
   * Every rule's namespace, or the namespace of objects without one (`--namespace`) when there is no
   * rule; undefined when the rules span several namespaces (a manifest or an ECDS resource cannot).
   */
  namespace?: string;
  /** In source order (Model.rules). */
  rules: Rule[];
  rateLimitService: RateLimitService;
  options: FilterOptions;
  /** TrafficRouters, their subsets and DestinationRules (src/ir/traffic.ts); absent when the input has none. */
  traffic?: Traffic;
  /** The lanes of the deployment's namespace (absent: none); the filter colours those whose entry is the app. */
  lanes?: LaneSet;
}
