// Where serve's filter configuration comes from: OpenSergo files through the translator (--rules), or
// a filter configuration JSON as `sergo translate` prints it (--config). The filter itself is the
// final judge (on_configure may still refuse a configuration).
import { readFile } from 'node:fs/promises';
import { formatDiagnostic } from '../diagnostics.ts';
import { translateFiles } from '../translate.ts';

export interface ServedRule {
  id: string;
  resource: string;
  strategy: { kind: string; mode?: string; [key: string]: unknown };
  fallback?: unknown;
}

export interface RateLimitServiceRef {
  cluster: string;
  authority?: string;
  path?: string;
  domain?: string;
  timeoutMs?: number;
}

/** The filter configuration (docs/filter-config.md), as far as serve needs to read it. */
export interface ServedConfig {
  version: number;
  rules: ServedRule[];
  rateLimitService?: RateLimitServiceRef;
  [key: string]: unknown;
}

export interface RuleSource {
  /** OpenSergo files (YAML/JSON), translated for `app` */
  rules?: readonly string[];
  /** a filter configuration JSON file (alternative to `rules`) */
  config?: string;
  app?: string;
  namespace?: string;
  /** the rate-limit service URL (--rls): Global rules get a rateLimitService if they have none */
  rls?: URL;
  /** the rate-limit domain and call timeout of Global rules (defaults: sergo, SERVE_RLS_TIMEOUT_MS) */
  rlsDomain?: string;
  rlsTimeoutMs?: number;
}

export type LoadResult =
  | { ok: true; config: ServedConfig; json: string; summary: string; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

/**
 * The rate-limit call timeout under serve when --rls-timeout-ms is not given. The translator's 20 ms
 * suits Envoy's C++ async client; here a call also waits for Node's event loop (and, first, for a new
 * connection), which on a loaded machine can take longer than 20 ms and would fail the request closed.
 */
export const SERVE_RLS_TIMEOUT_MS = 250;

/** The cluster name serve gives the rate-limit service when the configuration names none. */
export const DEFAULT_RLS_CLUSTER = 'sergo_rls';

export function sourceFiles(source: RuleSource): string[] {
  return source.config !== undefined ? [source.config] : [...(source.rules ?? [])];
}

export async function loadConfiguration(source: RuleSource): Promise<LoadResult> {
  const loaded = source.config !== undefined ? await readConfigFile(source.config) : await translate(source);
  if (!loaded.ok) return loaded;
  const { config, warnings } = loaded;
  const global = config.rules.filter((r) => r.strategy.mode === 'Global');
  if (global.length > 0) {
    if (source.rls === undefined) {
      warnings.push(
        `sergo: warning: ${global.length === 1 ? 'a rule uses' : `${global.length} rules use`} limitMode Global but no --rls URL was given: ` +
          'their rate-limit calls fail and each rule\'s failOpen decides',
      );
    } else if (config.rateLimitService === undefined) {
      config.rateLimitService = { cluster: DEFAULT_RLS_CLUSTER, authority: source.rls.host, ...serviceOverrides(source) };
    }
  }
  const n = config.rules.length;
  const summary = `${n} rule${n === 1 ? '' : 's'}${loaded.app !== undefined ? ` for app ${loaded.app}` : ''}`;
  return { ok: true, config, json: JSON.stringify(config), summary, warnings };
}

type Loaded = { ok: true; config: ServedConfig; app?: string; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

async function translate(source: RuleSource): Promise<Loaded> {
  const files = source.rules ?? [];
  if (files.length === 0) return { ok: false, errors: ['sergo: no rule files'], warnings: [] };
  // The service's Envoy cluster is serve's --rls URL: send its host as the authority, as a cluster
  // with that address would.
  const rateLimitService = { ...(source.rls ? { authority: source.rls.host } : {}), ...serviceOverrides(source) };
  const result = await translateFiles(files, { app: source.app, namespace: source.namespace, rateLimitService });
  const warnings = result.warnings.map(formatDiagnostic);
  if (result.config === undefined) {
    const errors = result.errors.map(formatDiagnostic);
    return { ok: false, errors: errors.length > 0 ? errors : ['sergo: the rules could not be translated'], warnings };
  }
  return { ok: true, config: result.config as unknown as ServedConfig, app: result.app, warnings };
}

async function readConfigFile(path: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${path}: cannot read: ${(err as Error).message}`], warnings: [] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`${path}: not JSON: ${(err as Error).message}`], warnings: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray((value as { rules?: unknown }).rules)) {
    return { ok: false, errors: [`${path}: not a filter configuration (expected an object with "version" and "rules", as sergo translate prints)`], warnings: [] };
  }
  const rules = (value as { rules: unknown[] }).rules;
  const bad = rules.findIndex((r) => typeof r !== 'object' || r === null || typeof (r as ServedRule).strategy !== 'object' || (r as ServedRule).strategy === null);
  if (bad >= 0) return { ok: false, errors: [`${path}: rules[${bad}]: expected an object with id, resource and strategy`], warnings: [] };
  return { ok: true, config: value as ServedConfig, warnings: [] };
}

function serviceOverrides(source: RuleSource): { domain?: string; timeoutMs?: number } {
  return {
    ...(source.rlsDomain !== undefined ? { domain: source.rlsDomain } : {}),
    timeoutMs: source.rlsTimeoutMs ?? SERVE_RLS_TIMEOUT_MS,
  };
}
