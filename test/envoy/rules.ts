// OpenSergo rules for the suites, written by small builders: the same RateLimitStrategy and
// FaultToleranceRule shapes recur in many test files, each with its own names and numbers.
const API_VERSION = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1';

export interface RateLimitSpec {
  name: string;
  limitMode: 'Local' | 'Global';
  threshold: number;
  statDurationSeconds: number;
  failOpen?: boolean;
  batch?: number;
  /** The app label; demo unless given. */
  app?: string;
}

export function rateLimitStrategy({ name, app = 'demo', ...spec }: RateLimitSpec): string {
  const fields = Object.entries({ metricType: 'RequestAmount', ...spec }).map(([k, v]) => `${k}: ${String(v)}`);
  return `${API_VERSION}\nkind: RateLimitStrategy\nmetadata: { name: ${name}, labels: { app: ${app} } }\nspec: { ${fields.join(', ')} }\n`;
}

export interface RuleSpec {
  name: string;
  targets: string[];
  strategies: string[];
  fallbackAction?: string;
  app?: string;
}

export function faultToleranceRule({ name, targets, strategies, fallbackAction, app = 'demo' }: RuleSpec): string {
  return `${API_VERSION}\nkind: FaultToleranceRule\nmetadata: { name: ${name}, labels: { app: ${app} } }\nspec:\n` +
    `  targets: [${targets.map((t) => `{ targetResourceName: '${t}' }`).join(', ')}]\n` +
    `  strategies: [${strategies.map((s) => `{ name: ${s} }`).join(', ')}]\n` +
    (fallbackAction === undefined ? '' : `  fallbackAction: ${fallbackAction}\n`);
}

/** Documents as one YAML stream. */
export const yamlStream = (...docs: string[]): string => docs.join('---\n');

/** A local limit of 1000 a minute on every path: a module that has rules but never refuses in a test. */
export const LIMIT_EVERY_PATH = yamlStream(
  rateLimitStrategy({ name: 'limit', limitMode: 'Local', threshold: 1000, statDurationSeconds: 60 }),
  faultToleranceRule({ name: 'all', targets: ['/**'], strategies: ['limit'] }),
);
