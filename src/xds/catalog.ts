// The rules `sergo xds` serves: every app's filter configuration, translated once per edit.
//
// Inputs are files or directories, expanded as every command expands them (src/inputs.ts: every
// *.yaml, *.yml and *.json directly inside, names starting with `.` skipped, so a Kubernetes
// ConfigMap volume's `..data` and `..<timestamp>` entries are followed through the visible
// symlinks; a directory without any is an error unless allowEmpty). All files are loaded together,
// grouped by namespace and app, and each group built into a deployment (src/ir) and emitted as its
// filter configuration. Any error anywhere refuses the whole edit (the previous catalog keeps
// serving), so an app never runs half of an edit.
import { Diagnostics, formatDiagnostic } from '../diagnostics.ts';
import { deploymentKey } from '../emit/ecds.ts';
import { emitFilterConfig, FILTER_CONFIG_VERSION, type FilterConfig } from '../emit/filter.ts';
import { buildDeployment, type RateLimitServiceOptions } from '../ir/deployment.ts';
import type { Lane } from '../ir/lane.ts';
import type { FilterOptions, Rule } from '../ir/model.ts';
import { validateDeployment } from '../ir/validate.ts';
import { readFilterConfigFile } from '../serve/rules.ts';
import { loadModel } from '../spec/load.ts';
import { expandInputs, readSources } from '../inputs.ts';
import { digest, parseResourceName, resourceName, type AppKey } from './resource.ts';

export interface CatalogOptions {
  /** Namespace of objects without metadata.namespace (default `default`). */
  namespace?: string;
  rateLimitService?: RateLimitServiceOptions;
  /** The filter's options of every app's configuration. */
  options?: FilterOptions;
  /**
   * Filter configurations served as they are (JSON, as `sergo translate` prints it) for one resource
   * each, instead of translated rules: `sergo xds --config sergo/<namespace>/<app>=FILE`. The filter
   * is their only judge (Envoy NACKs what it refuses).
   */
  configs?: readonly ConfigFile[];
  /** An empty rule file or directory is a warning, not an error. */
  allowEmpty?: boolean;
}

export interface ConfigFile {
  resource: string;
  file: string;
}

/** A GlobalToLocal rule: `threshold` is the app's budget, shared by the instances connected. */
export interface SharedBudget {
  /** Index in the configuration's rules. */
  index: number;
  threshold: number;
}

export interface AppConfig {
  key: AppKey;
  /** The configuration as translated (GlobalToLocal rules carry the whole budget). */
  config: FilterConfig;
  shared: SharedBudget[];
}

export interface Catalog {
  /** By resource name (`sergo/<namespace>/<app>`). */
  apps: Map<string, AppConfig>;
  /** The files read (directories expanded). */
  files: string[];
  /** Content-derived: changes exactly when some app's configuration does. */
  version: string;
  /** Every TrafficLane: an app without rules still carries (and, at its entry, colours) its namespace's lanes. */
  lanes?: readonly Lane[];
}

export type CatalogResult =
  | { ok: true; catalog: Catalog; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

export async function loadCatalog(inputs: readonly string[], options: CatalogOptions = {}): Promise<CatalogResult> {
  const diagnostics = new Diagnostics();
  const files = await expandInputs(inputs, diagnostics, { allowEmptyDirectory: options.allowEmpty });
  const sources = await readSources(files, diagnostics);
  const model = loadModel(sources, { namespace: options.namespace, allowEmpty: options.allowEmpty }, diagnostics);
  const warnings = diagnostics.warnings.map(formatDiagnostic);
  if (diagnostics.hasErrors) return { ok: false, errors: diagnostics.errors.map(formatDiagnostic), warnings };
  const apps = new Map<string, AppConfig>();
  const lanes = model.lanes ?? [];
  for (const [name, rules] of groupByApp(model.rules)) {
    const app = appConfig(rules, lanes, options, diagnostics);
    if (app !== undefined) apps.set(name, app);
  }
  for (const { resource, file } of options.configs ?? []) {
    const key = parseResourceName(resource);
    const loaded = await readFilterConfigFile(file);
    if (key === undefined) diagnostics.error(undefined, undefined, undefined, `--config ${resource}=${file}: the resource must be sergo/<namespace>/<app>`);
    else if (!loaded.ok) for (const e of loaded.errors) diagnostics.error(undefined, undefined, undefined, e);
    else if (apps.has(resource)) diagnostics.error(undefined, undefined, undefined, `${resource} has rules in the rule files and a --config file (${file}): give one`);
    else apps.set(resource, { key, config: loaded.config, shared: [] });
  }
  if (diagnostics.hasErrors) return { ok: false, errors: diagnostics.errors.map(formatDiagnostic), warnings };
  const served = [...apps].map(([name, a]) => [name, a.config, a.shared]);
  // Apps without rules get their lanes when they ask (emptyApp): the lanes are part of what is served.
  const laneContent = lanes.map(({ origin, name, entryApp, matches, workloadLabels, key }) => [origin.namespace, origin.name, name, entryApp, matches, workloadLabels, key]);
  const version = digest(JSON.stringify(lanes.length === 0 ? served : [served, laneContent]));
  const configFiles = (options.configs ?? []).map((c) => c.file);
  return { ok: true, catalog: { apps, files: [...files, ...configFiles], version, ...(lanes.length === 0 ? {} : { lanes }) }, warnings };
}

/** One app's rules (one namespace, one app) as its deployment; undefined (reported) when invalid. */
function appConfig(rules: Rule[], lanes: readonly Lane[], options: CatalogOptions, diagnostics: Diagnostics): AppConfig | undefined {
  const deployment = buildDeployment({ rules, lanes, rateLimitService: options.rateLimitService, options: options.options });
  const problems = validateDeployment(deployment);
  for (const problem of problems) diagnostics.error(undefined, undefined, undefined, `${resourceName(rules[0]!)}: ${problem}`);
  if (problems.length > 0) return undefined;
  return { key: deploymentKey(deployment)!, config: emitFilterConfig(deployment), shared: sharedBudgets(rules) };
}

/** The configuration of `name` for an app with no rules (an Envoy may ask before any rule exists). */
export function emptyApp(key: AppKey, lanes: readonly Lane[] = []): AppConfig {
  const own = lanes.filter((l) => l.origin.namespace === key.namespace);
  if (own.length === 0) return { key, config: { version: FILTER_CONFIG_VERSION, rules: [] }, shared: [] };
  return { key, config: emitFilterConfig(buildDeployment({ app: key.app, rules: [], lanes: own })), shared: [] };
}

/**
 * The configuration one instance runs: each GlobalToLocal budget T split over `instances` N as
 * floor(T / N), plus one for the first T mod N instances (`rank` 0-based, in order of connection),
 * so the shares add up to exactly T and no two differ by more than one.
 */
export function instanceConfig(app: AppConfig, rank: number, instances: number): FilterConfig {
  if (app.shared.length === 0) return app.config;
  const rules = app.config.rules.map((r) => ({ ...r }));
  for (const { index, threshold } of app.shared) {
    const rule = rules[index]!;
    if (rule.strategy.kind !== 'RateLimit') continue;
    rule.strategy = { ...rule.strategy, threshold: share(threshold, rank, instances) };
  }
  return { ...app.config, rules };
}

export function share(budget: number, rank: number, instances: number): number {
  const n = Math.max(1, instances);
  return Math.floor(budget / n) + (rank < budget % n ? 1 : 0);
}

function groupByApp(rules: readonly Rule[]): Map<string, Rule[]> {
  const groups = new Map<string, Rule[]>();
  for (const rule of rules) {
    const name = resourceName(rule);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [rule]);
    else group.push(rule);
  }
  return groups;
}

function sharedBudgets(rules: readonly Rule[]): SharedBudget[] {
  const shared: SharedBudget[] = [];
  rules.forEach((rule, index) => {
    const spec = rule.strategy.spec;
    if (spec.kind === 'RateLimit' && spec.globalToLocal !== undefined) shared.push({ index, threshold: spec.threshold });
  });
  return shared;
}
