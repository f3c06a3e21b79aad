// The programmatic API: OpenSergo files → the deployment model (src/ir) and its filter configuration,
// with every problem found. Used by the CLI, `sergo serve` and the tests; every target consumes the
// deployment (src/emit, src/xds).
import { Diagnostics, type Diagnostic } from './diagnostics.ts';
import { readSources } from './inputs.ts';
import { emitFilterConfig, type FilterConfig } from './emit/filter.ts';
import { buildDeployment, type RateLimitServiceOptions } from './ir/deployment.ts';
import type { Lane } from './ir/lane.ts';
import type { Deployment, FilterOptions, Model, Rule } from './ir/model.ts';
import type { Traffic } from './ir/traffic.ts';
import { appsOf, selectApp } from './ir/select-app.ts';
import { validateDeployment } from './ir/validate.ts';
import { loadModel, type SourceFile } from './spec/load.ts';
import { loadEndpoints } from './spec/traffic/endpoints.ts';
import type { EndpointTable } from './ir/traffic.ts';
import { DEFAULT_NAMESPACE } from './ir/deployment.ts';

export type { Diagnostic } from './diagnostics.ts';
export { renderFilterConfig, type FilterConfig } from './emit/filter.ts';
export type { RateLimitServiceOptions } from './ir/deployment.ts';
export type { Deployment, FilterOptions } from './ir/model.ts';
export type { SourceFile } from './spec/load.ts';
export { readSources } from './inputs.ts';

export interface TranslateOptions {
  /** The app whose rules to emit; required when the files hold rules of several apps. */
  app?: string;
  /** Namespace of objects without `metadata.namespace`. Default `default`. */
  namespace?: string;
  /**
   * The rate-limit service of `limitMode: Global` rules (cluster `sergo_rls`, authority = cluster,
   * domain `sergo`, timeout 20 ms unless given). Emitted only when some rule is Global.
   */
  rateLimitService?: RateLimitServiceOptions;
  /** The filter's `options` (docs/filter-config.md); emitted only when some field is given. */
  options?: FilterOptions;
  /**
   * Accept `limitMode: GlobalToLocal` (emitted with the whole budget): for callers whose Envoys get
   * their rules from `sergo xds`, which divides it. Default false: refused, with its position.
   */
  allowGlobalToLocal?: boolean;
  /**
   * The configuration is for a listener of the app's outbound calls: TrafficLanes are carried from
   * baggage to the lane header, never coloured (docs/traffic.md). Default false.
   */
  outbound?: boolean;
  /** An empty file or stdin is a warning, not an error (an empty configuration is meant). */
  allowEmpty?: boolean;
  /** A directory given includes its subdirectories (`-R`). */
  recursive?: boolean;
}

export interface TranslateResult {
  /** What every target consumes; undefined when there are errors. */
  deployment?: Deployment;
  /** The deployment's filter configuration (emitFilterConfig); undefined when there are errors. */
  config?: FilterConfig;
  /** The selected app (undefined when the files hold no rule and none was asked for). */
  app?: string;
  /** Every app that has rules, sorted. */
  apps: string[];
  files: number;
  warnings: Diagnostic[];
  errors: Diagnostic[];
  /** Errors and warnings together, in the order found (what the CLI prints). */
  diagnostics: Diagnostic[];
}

export interface ValidateResult {
  /** Every valid IR rule (of the requested app, if one was given). */
  model?: Model;
  apps: string[];
  files: number;
  warnings: Diagnostic[];
  errors: Diagnostic[];
  diagnostics: Diagnostic[];
}

export async function translateFiles(paths: readonly string[], options: TranslateOptions = {}): Promise<TranslateResult> {
  const diagnostics = new Diagnostics();
  const sources = await readSources(paths, diagnostics, { recursive: options.recursive });
  return translateSources(sources, options, diagnostics);
}

/** Like translateFiles, for text already in memory (`diagnostics` may hold earlier problems). */
export function translateSources(
  sources: readonly SourceFile[],
  options: TranslateOptions = {},
  diagnostics = new Diagnostics(),
  files = sources.length,
): TranslateResult {
  const model = loadModel(sources, options, diagnostics);
  const apps = appsOf(model.rules);
  const selection = selectApp(model, options.app);
  if (!selection.ok) diagnostics.error(undefined, undefined, undefined, selection.error);
  else if (selection.warning !== undefined) diagnostics.warning(undefined, undefined, undefined, selection.warning);
  if (selection.ok && options.allowGlobalToLocal !== true) refuseGlobalToLocal(selection.rules, diagnostics);
  const deployment = selection.ok && !diagnostics.hasErrors ? deploymentOf({ ...selection, lanes: model.lanes ?? [], traffic: model.traffic }, options, diagnostics) : undefined;
  const result = { apps, files, warnings: diagnostics.warnings, errors: diagnostics.errors, diagnostics: diagnostics.items };
  if (deployment === undefined) return result;
  return { ...result, app: deployment.app, deployment, config: emitFilterConfig(deployment) };
}

/** The selected rules with the caller's settings; undefined (reported) when an invariant fails. */
function deploymentOf(selection: { app?: string; rules: Rule[]; lanes: Lane[]; traffic?: Traffic }, options: TranslateOptions, diagnostics: Diagnostics): Deployment | undefined {
  const deployment = buildDeployment({
    app: selection.app,
    defaultNamespace: options.namespace,
    rules: selection.rules,
    lanes: selection.lanes,
    outbound: options.outbound,
    rateLimitService: options.rateLimitService,
    options: options.options,
    traffic: selection.traffic,
  });
  const problems = validateDeployment(deployment);
  for (const problem of problems) diagnostics.error(undefined, undefined, undefined, problem);
  return problems.length === 0 ? deployment : undefined;
}

/** GlobalToLocal needs the number of running instances: `sergo xds` divides; a static translation cannot. */
function refuseGlobalToLocal(rules: readonly Rule[], diagnostics: Diagnostics): void {
  const reported = new Set<string>();
  for (const { strategy } of rules) {
    if (strategy.spec.kind !== 'RateLimit' || strategy.spec.globalToLocal === undefined) continue;
    const object = `${strategy.origin.kind}/${strategy.origin.name}`;
    if (reported.has(object)) continue;
    reported.add(object);
    diagnostics.error(strategy.spec.globalToLocal.pos, object, 'spec.limitMode',
      'GlobalToLocal divides the threshold by the number of running instances, which only `sergo xds` knows: serve these rules with sergo xds (docs/xds.md), or use Local or Global');
  }
}

/** Checks files for every app (or only `options.app`'s rules, if given) without choosing one. */
export async function validateFiles(paths: readonly string[], options: TranslateOptions = {}): Promise<ValidateResult> {
  const diagnostics = new Diagnostics();
  const sources = await readSources(paths, diagnostics, { recursive: options.recursive });
  return validateSources(sources, options, diagnostics);
}

export function validateSources(
  sources: readonly SourceFile[],
  options: TranslateOptions = {},
  diagnostics = new Diagnostics(),
  files = sources.length,
): ValidateResult {
  const model = loadModel(sources, options, diagnostics);
  const apps = appsOf(model.rules);
  let rules = model.rules;
  if (options.app !== undefined) {
    const selection = selectApp(model, options.app);
    if (selection.ok) {
      rules = selection.rules;
      if (selection.warning !== undefined) diagnostics.warning(undefined, undefined, undefined, selection.warning);
    }
  }
  const result = { apps, files, warnings: diagnostics.warnings, errors: diagnostics.errors, diagnostics: diagnostics.items };
  return diagnostics.hasErrors ? result : { ...result, model: { rules, lanes: model.lanes ?? [], ...(model.traffic === undefined ? {} : { traffic: model.traffic }) } };
}

/** `--endpoints FILE` (docs/traffic.md): undefined when unreadable or invalid (in `diagnostics`). */
export async function readEndpointsFile(path: string, namespace: string | undefined, diagnostics: Diagnostics): Promise<EndpointTable | undefined> {
  const [source] = await readSources([path], diagnostics);
  return source === undefined ? undefined : loadEndpoints(source.path, source.text, namespace ?? DEFAULT_NAMESPACE, diagnostics);
}
