// The filter configuration is per application: pick the rules of one app.
import type { Model, Rule } from './model.ts';

export function appsOf(rules: readonly Rule[]): string[] {
  return [...new Set(rules.map((r) => r.app))].sort();
}

export type AppSelection =
  | { ok: true; app?: string; rules: Rule[]; warning?: string }
  | { ok: false; error: string };

/**
 * `requested` picks an app; without it the model must hold at most one app. Asking for an app that has
 * no rule is allowed (an app may legitimately have no rules) but warned about, since it is often a typo.
 */
export function selectApp(model: Model, requested: string | undefined): AppSelection {
  const apps = appsOf(model.rules);
  if (requested !== undefined) {
    const rules = model.rules.filter((r) => r.app === requested);
    if (rules.length > 0 || (model.lanes?.length ?? 0) > 0) return { ok: true, app: requested, rules };
    const found = apps.length > 0 ? `apps found: ${apps.join(', ')}` : 'no rules found';
    return { ok: true, app: requested, rules, warning: `no FaultToleranceRule for app ${requested} (${found}); the configuration has no rules` };
  }
  if (apps.length > 1) {
    return { ok: false, error: `the files hold rules for several apps (${apps.join(', ')}); choose one with --app` };
  }
  return { ok: true, app: apps[0], rules: model.rules };
}
