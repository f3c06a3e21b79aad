// An app's OpenSergo objects, as rebuilt from the pushes of every kind (src/opensergo/to-objects.ts),
// → its filter configuration, through the same reader, IR and emitter as YAML input
// (src/translate.ts). Each object is a source of its own, named `Kind/name`, so every problem names
// the object it is about.
import { stringify } from 'yaml';
import { translateSources, type RateLimitServiceOptions } from '../translate.ts';
import type { FilterOptions } from '../ir/model.ts';
import { emptyApp, type AppConfig } from '../xds/catalog.ts';
import type { AppKey } from '../xds/resource.ts';
import type { RebuiltObject } from './to-objects.ts';

export interface BuildOptions {
  rateLimitService?: RateLimitServiceOptions;
  options?: FilterOptions;
}

export type Built = { ok: true; app: AppConfig; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

/** Strategy kinds the control plane's CRD does not let a FaultToleranceRule name. */
const UNREFERENCEABLE = new Set(['ThrottlingStrategy', 'CircuitBreakerStrategy']);

export function buildApp(key: AppKey, objects: readonly RebuiltObject[], options: BuildOptions): Built {
  const rules = objects.filter((o) => o.kind === 'FaultToleranceRule');
  const warnings = unreferenced(objects, rules);
  // No rule: the configuration with no rules, as sergo xds serves an app its files do not name.
  if (rules.length === 0) return { ok: true, app: emptyApp(key), warnings };
  const sources = objects.map((o) => ({ path: `${o.kind}/${o.metadata.name}`, text: stringify(o) }));
  const result = translateSources(sources, { app: key.app, namespace: key.namespace, ...options });
  const text = (d: (typeof result.diagnostics)[number]) => `${d.file === undefined ? '' : `${d.file}: `}${d.field === undefined || d.field === '' ? '' : `${d.field}: `}${d.message}`;
  warnings.push(...result.warnings.map(text));
  if (result.config === undefined) return { ok: false, errors: result.errors.map(text), warnings };
  return { ok: true, app: { key, config: result.config, shared: [] }, warnings };
}

/** A Throttling or CircuitBreaker strategy no rule names (the reader says so too): why, when the CRD is the reason. */
function unreferenced(objects: readonly RebuiltObject[], rules: readonly RebuiltObject[]): string[] {
  const named = new Set(rules.flatMap((r) => (r.spec.strategies as Array<{ name: string }>).map((s) => s.name)));
  return objects
    .filter((o) => UNREFERENCEABLE.has(o.kind) && !named.has(o.metadata.name))
    .map((o) => `${o.kind}/${o.metadata.name}: the control plane's FaultToleranceRule CRD lets strategies[].kind be RateLimitStrategy or ConcurrencyLimitStrategy only, so no rule it delivers can name this strategy`);
}
