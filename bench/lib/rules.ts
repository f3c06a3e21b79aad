// Rule sets for the benchmarks: filter-configuration rules that match but never block, and
// generated OpenSergo YAML for the translator and on_configure timings.

/** A filter-configuration rule (docs/filter-config.md). */
export interface Rule {
  id: string;
  resource: string;
  strategy: Record<string, unknown>;
  fallback?: unknown;
}

/**
 * One strategy of each kind with thresholds no benchmark reaches: every request is checked and
 * admitted (the common path), and the state is read and written as in production.
 */
export const NEVER = {
  RateLimit: { kind: 'RateLimit', threshold: 2_000_000_000, windowMs: 1000 },
  Throttling: { kind: 'Throttling', intervalMs: 0, queueTimeoutMs: 1000 },
  ConcurrencyLimit: { kind: 'ConcurrencyLimit', maxConcurrency: 1_000_000 },
  CircuitBreaker: {
    kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 1, statDurationMs: 10_000,
    recoveryTimeoutMs: 1000, minRequestAmount: 1_000_000,
  },
} as const;

export type Kind = keyof typeof NEVER;
export const KINDS = Object.keys(NEVER) as Kind[];

export function single(kind: Kind, resource = '/api/v0/items'): Rule[] {
  return [{ id: `bench/${kind}`, resource, strategy: NEVER[kind] }];
}

/** All four strategies on one resource. */
export function allFour(resource = '/api/v0/items'): Rule[] {
  return KINDS.map((k) => ({ id: `bench/all/${k}`, resource, strategy: NEVER[k] }));
}

/** n RateLimit rules on n distinct resources: `GET:/api/v{i}/items` or the template `GET:/api/v{i}/items/{id}`. */
export function manyResources(n: number, template: boolean): Rule[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench/r${i}`,
    resource: template ? `GET:/api/v${i}/items/{id}` : `GET:/api/v${i}/items`,
    strategy: NEVER.RateLimit,
  }));
}

/** The path a request to "the middle" resource of manyResources(n, template) uses. */
export function middlePath(n: number, template: boolean): string {
  const i = Math.floor(n / 2);
  return template ? `/api/v${i}/items/42` : `/api/v${i}/items`;
}

export function filterConfig(rules: Rule[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, ...extra, rules });
}

// ---- OpenSergo YAML ---------------------------------------------------------------------------

const STRATEGY_DOCS: Record<Kind, string> = {
  RateLimit: 'kind: RateLimitStrategy\nmetadata:\n  name: s-ratelimit\nspec:\n  metricType: RequestAmount\n  limitMode: Local\n  threshold: 1000000\n  statDurationSeconds: 1\n',
  Throttling: "kind: ThrottlingStrategy\nmetadata:\n  name: s-throttling\nspec:\n  minIntervalOfRequests: '1ms'\n  queueTimeout: '500ms'\n",
  ConcurrencyLimit: 'kind: ConcurrencyLimitStrategy\nmetadata:\n  name: s-concurrency\nspec:\n  maxConcurrency: 100000\n  limitMode: Local\n',
  CircuitBreaker:
    "kind: CircuitBreakerStrategy\nmetadata:\n  name: s-breaker\nspec:\n  strategy: ErrorRequestRatio\n  triggerRatio: '50%'\n" +
    "  statDuration: '10s'\n  recoveryTimeout: '5s'\n  minRequestAmount: 100\n",
};
const STRATEGY_REF: Record<Kind, string> = {
  RateLimit: 's-ratelimit\n      kind: RateLimitStrategy',
  Throttling: 's-throttling\n      kind: ThrottlingStrategy',
  ConcurrencyLimit: 's-concurrency\n      kind: ConcurrencyLimitStrategy',
  CircuitBreaker: 's-breaker\n      kind: CircuitBreakerStrategy',
};

/**
 * OpenSergo documents that translate to exactly n filter rules for app `bench`: the four strategies
 * once, then n FaultToleranceRules of one target and one strategy each (kinds in turn; every other
 * target a template `/api/v{i}/items/{id}`).
 */
export function openSergoYaml(n: number): string {
  const api = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\n';
  const docs = KINDS.map((k) => api + STRATEGY_DOCS[k].replace('metadata:\n', 'metadata:\n  labels:\n    app: bench\n'));
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const target = i % 2 === 0 ? `GET:/api/v${i}/items` : `/api/v${i}/items/{id}`;
    docs.push(
      `${api}kind: FaultToleranceRule\nmetadata:\n  name: rule-${i}\nspec:\n  selector:\n    app: bench\n` +
        `  targets:\n    - targetResourceName: '${target}'\n  strategies:\n    - name: ${STRATEGY_REF[kind]}\n`,
    );
  }
  return docs.join('---\n');
}

// ---- OpenSergo YAML that never blocks (the Envoy benchmark translates it with `sergo translate`) ----

/** The NEVER strategies as OpenSergo specs: limits far above any load this machine makes. */
const PERMISSIVE_SPECS: Record<Kind, string> = {
  RateLimit: 'kind: RateLimitStrategy\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 2000000000, statDurationSeconds: 1 }',
  Throttling: "kind: ThrottlingStrategy\nspec: { minIntervalOfRequests: '0ms', queueTimeout: '1s' }",
  ConcurrencyLimit: 'kind: ConcurrencyLimitStrategy\nspec: { maxConcurrency: 1000000, limitMode: Local }',
  CircuitBreaker:
    "kind: CircuitBreakerStrategy\nspec: { strategy: ErrorRequestRatio, triggerRatio: '100%', statDuration: '10s', recoveryTimeout: '1s', minRequestAmount: 1000000 }",
};

/** OpenSergo documents for app `bench`: one rule on `resource` with the given strategies (none: no rules). */
export function permissiveYaml(kinds: readonly Kind[], resource: string): string {
  if (kinds.length === 0) return '';
  const api = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\n';
  const name = (k: Kind) => `never-${k.toLowerCase()}`;
  const strategies = kinds.map((k) => `${api}${PERMISSIVE_SPECS[k].replace('\n', `\nmetadata: { name: ${name(k)}, labels: { app: bench } }\n`)}\n`);
  const rule = `${api}kind: FaultToleranceRule\nmetadata: { name: bench, labels: { app: bench } }\n` +
    `spec:\n  targets: [{ targetResourceName: '${resource}' }]\n  strategies: [${kinds.map((k) => `{ name: ${name(k)} }`).join(', ')}]\n`;
  return [...strategies, rule].join('---\n');
}
