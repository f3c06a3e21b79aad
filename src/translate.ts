// The programmatic API: OpenSergo files → the filter configuration, with every problem found.
// Used by the CLI and the tests; later commands (serve, package, rls) build on it.
import { readFile } from 'node:fs/promises';
import { Diagnostics, type Diagnostic } from './diagnostics.ts';
import { emitFilterConfig, type FilterConfig, type RateLimitServiceOptions } from './emit/filter.ts';
import type { Model, Rule } from './ir/model.ts';
import { appsOf, selectApp } from './ir/select-app.ts';
import { loadModel, type SourceFile } from './spec/load.ts';

export type { Diagnostic } from './diagnostics.ts';
export { renderFilterConfig, type FilterConfig, type RateLimitServiceOptions } from './emit/filter.ts';
export type { SourceFile } from './spec/load.ts';

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
  /**
   * Accept `limitMode: GlobalToLocal` (emitted with the whole budget): for callers whose Envoys get
   * their rules from `sergo xds`, which divides it. Default false: refused, with its position.
   */
  allowGlobalToLocal?: boolean;
}

export interface TranslateResult {
  /** Undefined when there are errors. */
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
  const sources = await readSources(paths, diagnostics);
  return translateSources(sources, options, diagnostics, paths.length);
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
  const result = { apps, files, warnings: diagnostics.warnings, errors: diagnostics.errors, diagnostics: diagnostics.items };
  if (!selection.ok || diagnostics.hasErrors) return result;
  return { ...result, app: selection.app, config: emitFilterConfig(selection.rules, options.rateLimitService) };
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
  const sources = await readSources(paths, diagnostics);
  return validateSources(sources, options, diagnostics, paths.length);
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
  return diagnostics.hasErrors ? result : { ...result, model: { rules } };
}

/** Reads each file; an unreadable file is an input error, reported against its path. */
export async function readSources(paths: readonly string[], diagnostics: Diagnostics): Promise<SourceFile[]> {
  const sources: SourceFile[] = [];
  for (const path of paths) {
    try {
      sources.push({ path, text: await readFile(path, 'utf8') });
    } catch (err) {
      if (!isFileSystemError(err)) throw err;
      diagnostics.add({ severity: 'error', file: path, message: `cannot read: ${err.message}` });
    }
  }
  return sources;
}

/** Errors from the file system carry a code (ENOENT, EACCES, EISDIR…); anything else is a bug. */
function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
