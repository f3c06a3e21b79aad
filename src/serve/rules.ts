// Where serve's filter configuration comes from: OpenSergo files through the translator (--rules),
// which builds the deployment with serve's rate-limit service and emits it; or a filter
// configuration JSON as `sergo translate` prints it (--config). The filter itself is the final judge
// (on_configure may still refuse a configuration).
import { readFile } from 'node:fs/promises';
import { formatDiagnostic } from '../diagnostics.ts';
import type { FilterConfig, FilterRule } from '../emit/filter.ts';
import { DEFAULT_RLS_CLUSTER, type RateLimitServiceOptions } from '../ir/deployment.ts';
import { translateFiles } from '../translate.ts';

/** The configuration serve runs: the filter configuration (src/emit/filter.ts). */
export type ServedConfig = FilterConfig;
export type ServedRule = FilterRule;

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
  /** a configuration without rules is accepted (else it is an error: all protection would be dropped) */
  allowEmpty?: boolean;
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

export function sourceFiles(source: RuleSource): string[] {
  return source.config !== undefined ? [source.config] : [...(source.rules ?? [])];
}

export async function loadConfiguration(source: RuleSource): Promise<LoadResult> {
  const loaded = source.config !== undefined ? await readHandedConfig(source) : await translate(source);
  if (!loaded.ok) return loaded;
  const { config, warnings } = loaded;
  const global = globalRuleIds(config);
  // Without a service every call fails: the rules would refuse (or admit) every request, which is an
  // outage, not a configuration.
  if (global.length > 0 && source.rls === undefined) {
    const which = global.map((id) => `  ${id}`).join('\n');
    return { ok: false, warnings, errors: [`sergo: limitMode Global needs a rate-limit service: give --rls URL (or drop these rules):\n${which}`] };
  }
  const n = config.rules.length;
  // Nothing to do at all (a truncated file, the wrong --app) drops every protection: only on purpose
  // (issue 12). TrafficLanes or TrafficRouters alone are something (they are said to need Envoy).
  if (n === 0 && config.lanes === undefined && (loaded.routers ?? 0) === 0 && source.allowEmpty !== true) {
    const app = source.app ?? loaded.app;
    const what = `${source.config !== undefined ? 'the configuration' : 'the rules'} (${sourceFiles(source).join(', ')}) ${source.config !== undefined ? 'holds' : 'hold'}`;
    return { ok: false, warnings, errors: [`sergo: ${what} no rule${app === undefined ? '' : ` for app ${app}`}: nothing would be enforced (--allow-empty to serve without rules)`] };
  }
  const summary = `${n} rule${n === 1 ? '' : 's'}${loaded.app !== undefined ? ` for app ${loaded.app}` : ''}`;
  return { ok: true, config, json: JSON.stringify(config), summary, warnings };
}

type Loaded = { ok: true; config: FilterConfig; app?: string; routers?: number; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

/** --rules: the deployment of the rules with serve's rate-limit service, emitted. */
async function translate(source: RuleSource): Promise<Loaded> {
  const files = source.rules ?? [];
  if (files.length === 0) return { ok: false, errors: ['sergo: no rule files'], warnings: [] };
  // The service's Envoy cluster is serve's --rls URL: send its host as the authority, as a cluster
  // with that address would.
  const rateLimitService: RateLimitServiceOptions = { ...(source.rls ? { authority: source.rls.host } : {}), ...serviceOverrides(source) };
  const result = await translateFiles(files, { app: source.app, namespace: source.namespace, rateLimitService, allowEmpty: source.allowEmpty });
  const warnings = result.warnings.map(formatDiagnostic);
  if (result.config === undefined) {
    const errors = result.errors.map(formatDiagnostic);
    return { ok: false, errors: errors.length > 0 ? errors : ['sergo: the rules could not be translated'], warnings };
  }
  const routers = result.deployment?.traffic?.routers ?? [];
  if (routers.length > 0) warnings.push(routersNeedEnvoy(routers.map((r) => `${r.origin.namespace}/${r.origin.name}`)));
  return { ok: true, config: result.config, app: result.app, routers: routers.length, warnings };
}

/** serve proxies to one upstream: it enforces the filter's rules, it does not route (no silent ignore). */
export function routersNeedEnvoy(names: readonly string[]): string {
  return `sergo serve does not route: the TrafficRouters ${names.join(', ')} need Envoy (sergo translate --format envoy --endpoints FILE) ` +
    'or Istio (--format istio); here every request goes to --upstream';
}

/**
 * --config: a configuration made elsewhere, run as it is, except that Global rules in one that names
 * no rate-limit service are counted by serve's --rls (the filter would refuse them otherwise).
 */
async function readHandedConfig(source: RuleSource): Promise<Loaded> {
  const loaded = await readFilterConfigFile(source.config!);
  if (!loaded.ok || source.rls === undefined || loaded.config.rateLimitService !== undefined || globalRuleIds(loaded.config).length === 0) return loaded;
  const rateLimitService = { cluster: DEFAULT_RLS_CLUSTER, authority: source.rls.host, ...serviceOverrides(source) };
  return { ...loaded, config: { ...loaded.config, rateLimitService } };
}

/**
 * A filter configuration JSON file, checked only for its shape (an object with a `rules` list of
 * objects with a strategy): the filter judges the rest. Also `sergo xds --config`.
 */
export async function readFilterConfigFile(path: string): Promise<{ ok: true; config: FilterConfig; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${path}: cannot read: ${(err as Error).message}`], warnings: [] };
  }
  if (text.trim() === '') return { ok: false, errors: [`${path}: empty: expected a filter configuration (an empty input drops every rule)`], warnings: [] };
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
  const bad = rules.findIndex((r) => typeof r !== 'object' || r === null || typeof (r as FilterRule).strategy !== 'object' || (r as FilterRule).strategy === null);
  if (bad >= 0) return { ok: false, errors: [`${path}: rules[${bad}]: expected an object with id, resource and strategy`], warnings: [] };
  return { ok: true, config: value as FilterConfig, warnings: [] };
}

/** Rules with `mode: Global` (of any kind: a handed configuration may be wrong; the filter judges). */
function globalRuleIds(config: FilterConfig): string[] {
  return config.rules.filter((r) => (r.strategy as { mode?: string }).mode === 'Global').map((r) => r.id);
}

function serviceOverrides(source: RuleSource): { domain?: string; timeoutMs?: number } {
  return {
    ...(source.rlsDomain !== undefined ? { domain: source.rlsDomain } : {}),
    timeoutMs: source.rlsTimeoutMs ?? SERVE_RLS_TIMEOUT_MS,
  };
}
