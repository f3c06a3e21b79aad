// The controller's only coupling to the translator (src/translate.ts, src/emit, src/spec, src/ir):
// a namespace's objects as the API server holds them → each object's problems, and each app's filter
// configuration (or why it has none). Every other controller module talks to this one.
//
// Each object is given to the translator as a source of its own, named `Kind/name`, so every
// diagnostic names the object it belongs to. An app is translated from its FaultToleranceRules plus
// every valid strategy and fallback of the namespace: an invalid object that the app does not use
// cannot hold the app back, one that it uses can (and the app keeps its last good configuration).
import { stringify } from 'yaml';
import type { Diagnostic } from '../diagnostics.ts';
import { parseModuleUrl, parseSha256 } from '../address.ts';
import { emitWasmPlugin, isDnsSubdomain, type WasmPluginManifest, type WasmPluginOptions } from '../emit/istio.ts';
import { translateSources, validateSources, type Deployment, type FilterConfig, type RateLimitServiceOptions, type SourceFile } from '../translate.ts';

export type { Deployment, FilterConfig } from '../translate.ts';
export { LIMITS } from '../ir/limits.ts';
export { STRATEGY_KINDS } from '../ir/model.ts';
export { DURATION, NON_ZERO_DURATION, MAX_MS } from '../spec/duration.ts';
export { PERCENT } from '../spec/percent.ts';
export { LIMIT_MODES } from '../spec/kinds/limit-mode.ts';
export { GRPC_STATUS_NAMES } from '../spec/kinds/http-request-fallback-action.ts';
export { FAULT_TOLERANCE_GROUP, FALLBACK_KIND, RULE_KIND } from '../spec/kinds/index.ts';
export { istioServiceCluster, PHASES, TRAFFIC, WASM_PLUGIN_API_VERSION, type Phase, type Traffic, type WasmPluginManifest } from '../emit/istio.ts';
export type { FailPolicy } from '../emit/wasm-plugin.ts';
export type { RateLimitServiceOptions } from '../translate.ts';
export { parseModuleUrl, parseSha256 };

/** An OpenSergo object as read from the API server. */
export interface SourceObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec?: unknown;
}

export interface Problem {
  severity: 'error' | 'warning';
  /** Dotted path of the field, e.g. `spec.strategies[0].name`; absent for the whole object. */
  field?: string;
  message: string;
}

/** What the controller needs of each app: its configuration, or the reason it keeps the last good one. */
export type AppOutcome =
  | { ok: true; deployment: Deployment; config: FilterConfig; shared: SharedBudget[]; rules: string[] }
  | { ok: false; rules: string[]; reason: string };

/** A GlobalToLocal rate limit (index into config.rules): the budget sergo xds divides. */
export interface SharedBudget {
  index: number;
  threshold: number;
}

export interface NamespaceTranslation {
  /** By object key (`Kind/name`), every object of the namespace (empty list: no problem). */
  problems: Map<string, Problem[]>;
  /** By app, every app that has FaultToleranceRules. */
  apps: Map<string, AppOutcome>;
}

export interface TranslateOptions {
  /** limitMode GlobalToLocal: only for configurations served by sergo xds alone. */
  allowGlobalToLocal: boolean;
  rateLimitService?: RateLimitServiceOptions;
  /** limitMode Global needs a rate-limit service the proxies can reach: refuse such apps when none was given. */
  rateLimitServiceGiven?: boolean;
}

export function objectKey(o: { kind: string; metadata: { name: string } }): string {
  return `${o.kind}/${o.metadata.name}`;
}

/** The app a FaultToleranceRule applies to, read as the translator reads it (selector, else label). */
export function ruleApp(o: SourceObject): string | undefined {
  const spec = o.spec as { selector?: { app?: unknown } } | undefined;
  const selected = spec?.selector?.app;
  if (typeof selected === 'string' && selected !== '') return selected;
  const label = o.metadata.labels?.app;
  return label === undefined || label === '' ? undefined : label;
}

export function isRule(o: SourceObject): boolean {
  return o.kind === 'FaultToleranceRule';
}

export function translateNamespace(namespace: string, objects: readonly SourceObject[], options: TranslateOptions): NamespaceTranslation {
  const sources = new Map(objects.map((o) => [objectKey(o), toSource(o)]));
  const whole = validateSources([...sources.values()], { namespace, allowGlobalToLocal: options.allowGlobalToLocal });
  const problems = new Map<string, Problem[]>([...sources.keys()].map((k) => [k, []]));
  for (const d of whole.diagnostics) {
    if (d.file !== undefined) problems.get(d.file)?.push(toProblem(d));
  }
  const invalid = new Set([...problems].filter(([, list]) => list.some((p) => p.severity === 'error')).map(([k]) => k));
  const others = objects.filter((o) => !isRule(o) && !invalid.has(objectKey(o))).map((o) => sources.get(objectKey(o))!);
  const apps = new Map<string, AppOutcome>();
  for (const [app, rules] of rulesByApp(objects)) {
    const keys = rules.map(objectKey);
    apps.set(app, translateApp(app, namespace, keys, others, { sources, invalid, problems, options }));
  }
  return { problems, apps };
}

interface AppContext {
  sources: Map<string, SourceFile>;
  invalid: Set<string>;
  problems: Map<string, Problem[]>;
  options: TranslateOptions;
}

function translateApp(app: string, namespace: string, rules: string[], others: SourceFile[], ctx: AppContext): AppOutcome {
  const broken = rules.filter((k) => ctx.invalid.has(k));
  if (broken.length > 0) return { ok: false, rules, reason: `${broken.join(', ')} ${broken.length === 1 ? 'is' : 'are'} invalid` };
  const input = [...rules.map((k) => ctx.sources.get(k)!), ...others];
  const translateOptions = { app, namespace, allowGlobalToLocal: ctx.options.allowGlobalToLocal, rateLimitService: ctx.options.rateLimitService };
  const result = translateSources(input, translateOptions);
  if (result.config === undefined || result.deployment === undefined) {
    blameInvalidReferences(result.errors, ctx);
    const first = result.errors[0];
    const where = first?.file === undefined ? '' : `${first.file}: `;
    return { ok: false, rules, reason: first === undefined ? 'translation failed' : `${where}${first.field === undefined ? '' : `${first.field}: `}${first.message}` };
  }
  const global = ctx.options.rateLimitServiceGiven === false ? globalStrategies(result.deployment) : [];
  if (global.length > 0) {
    const message = 'limitMode Global needs the rate-limit service: start the controller with --rls http://NAME.NAMESPACE.svc.cluster.local:PORT';
    for (const key of global) pushOnce(ctx.problems.get(key), { severity: 'error', field: 'spec.limitMode', message });
    return { ok: false, rules, reason: `${global.join(', ')}: ${message}` };
  }
  return { ok: true, deployment: result.deployment, config: result.config, shared: sharedBudgets(result.config, result.deployment.rules), rules };
}

/**
 * Errors that appear only when the app is translated alone: a rule that fails without the namespace's
 * invalid objects refers to one of them (its status says which; the translator, which no longer sees
 * it, would say "unknown"); an error on a strategy or fallback is its own in this app's context (e.g.
 * GlobalToLocal without sergo xds).
 */
function blameInvalidReferences(errors: readonly Diagnostic[], ctx: AppContext): void {
  const invalidNames = [...ctx.invalid];
  for (const d of errors) {
    if (d.file === undefined || ctx.invalid.has(d.file)) continue;
    const list = ctx.problems.get(d.file);
    if (list === undefined) continue;
    let problem = toProblem(d);
    if (d.file.startsWith('FaultToleranceRule/')) {
      const named = invalidNames.filter((k) => d.message.includes(` ${k.slice(k.indexOf('/') + 1)} `));
      const what = named.length > 0 ? `${named.join(' or ')}, which is invalid (see its status)` : 'an object that is invalid';
      problem = { ...problem, message: `refers to ${what}` };
    }
    pushOnce(list, problem);
  }
}

function globalStrategies(deployment: Deployment): string[] {
  const keys = deployment.rules.filter((r) => r.strategy.spec.kind === 'RateLimit' && r.strategy.spec.global !== undefined).map((r) => `${r.strategy.origin.kind}/${r.strategy.origin.name}`);
  return [...new Set(keys)];
}

function pushOnce(list: Problem[] | undefined, problem: Problem): void {
  if (list !== undefined && !list.some((p) => p.field === problem.field && p.message === problem.message)) list.push(problem);
}

function sharedBudgets(config: FilterConfig, rules: ReadonlyArray<{ id: string; strategy: { spec: { kind: string; threshold?: number; globalToLocal?: unknown } } }>): SharedBudget[] {
  const shared = new Map(rules.filter((r) => r.strategy.spec.kind === 'RateLimit' && r.strategy.spec.globalToLocal !== undefined).map((r) => [r.id, r.strategy.spec.threshold!]));
  return config.rules.flatMap((rule, index) => (shared.has(rule.id) ? [{ index, threshold: shared.get(rule.id)! }] : []));
}

function rulesByApp(objects: readonly SourceObject[]): Map<string, SourceObject[]> {
  const apps = new Map<string, SourceObject[]>();
  for (const o of objects) {
    const app = isRule(o) ? ruleApp(o) : undefined;
    if (app === undefined) continue;
    apps.set(app, [...(apps.get(app) ?? []), o]);
  }
  return apps;
}

/** The object as `kubectl get -o yaml` would show what the translator reads (no status, no server fields). */
function toSource(o: SourceObject): SourceFile {
  const metadata = { name: o.metadata.name, namespace: o.metadata.namespace, ...(o.metadata.labels === undefined ? {} : { labels: o.metadata.labels }) };
  return { path: objectKey(o), text: stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata, spec: o.spec }) };
}

function toProblem(d: Diagnostic): Problem {
  return { severity: d.severity, ...(d.field === undefined || d.field === '' ? {} : { field: d.field }), message: d.message };
}

// ---- the WasmPlugin of an app ----

/** The emitter's WasmPlugin options; the name is the app's. */
export type PluginOptions = Omit<WasmPluginOptions, 'name'>;

export function wasmPlugin(name: string, deployment: Deployment, options: PluginOptions): WasmPluginManifest {
  return emitWasmPlugin(deployment, { name, ...options });
}

/** `sergo-<app>` when that is a valid name; otherwise a lower-cased form with a digest of the app. */
export function wasmPluginName(app: string, digestOf: (text: string) => string): string {
  const plain = `sergo-${app}`;
  if (isDnsSubdomain(plain) && plain.length <= 63) return plain;
  const cleaned = app.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `sergo-${cleaned === '' ? 'app' : cleaned}-${digestOf(app).slice(0, 8)}`;
}
