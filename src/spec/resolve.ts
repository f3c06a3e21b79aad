// Binding (DESIGN §3): a FaultToleranceRule applies every referenced strategy to every target, one
// IR rule per (target, strategy). References resolve by name in the rule's namespace, across all
// strategy kinds unless the reference gives `kind`; a referenced object that carries an app must
// carry the rule's app. A failed lookup says where a same-named object was found instead (and those
// objects are not reported again as unreferenced); a reference to an object already reported as
// broken (invalid YAML, another version) adds no error of its own.
import { formatPos } from '../diagnostics.ts';
import { MAX_RULE_ID_LENGTH, ruleId } from '../ir/identity.ts';
import type { Fallback, Rule, Strategy } from '../ir/model.ts';
import type { Reference } from './kinds/fault-tolerance-rule.ts';
import { FALLBACK_KIND, isStrategyKind } from './kinds/index.ts';
import type { ObjectIndex } from './object-index.ts';
import type { LoadedObject } from './objects.ts';

type RuleObject = Extract<LoadedObject, { role: 'rule' }>;
type StrategyObject = Extract<LoadedObject, { role: 'strategy' }>;
type FallbackObject = Extract<LoadedObject, { role: 'fallback' }>;
type Role = 'strategy' | 'fallback';

export interface ResolveContext {
  index: ObjectIndex;
  /** Namespace of objects without `metadata.namespace`; named in hints. */
  defaultNamespace: string;
}

/** IR rules of every FaultToleranceRule in `objects`, in order; problems are reported. */
export function resolveRules(objects: readonly LoadedObject[], ctx: ResolveContext): Rule[] {
  const referenced = new Set<LoadedObject>();
  const rules: Rule[] = [];
  for (const o of objects) if (o.role === 'rule') resolveRule(o, ctx, referenced, rules);
  for (const o of objects) {
    if ((o.role === 'strategy' || o.role === 'fallback') && !referenced.has(o)) {
      o.reporter.warningAt(o.pos, 'metadata.name', 'not referenced by any FaultToleranceRule; nothing enforces it');
    }
  }
  return rules;
}

/** Appends the IR rules of `rule` to `out` (none unless every part of it is valid). */
function resolveRule(rule: RuleObject, ctx: ResolveContext, referenced: Set<LoadedObject>, out: Rule[]): void {
  const app = rule.app;
  if (app === undefined) return;
  const before = rule.reporter.errorCount;

  const strategies: StrategyObject[] = [];
  for (const ref of rule.rule.strategies) {
    const found = resolveReference(ref, 'strategy', rule, app, ctx, referenced) as StrategyObject | undefined;
    if (found === undefined) continue;
    referenced.add(found);
    if (strategies.includes(found)) {
      rule.reporter.errorAt(ref.pos, ref.at.path, `${found.kind} ${found.name} is already listed in this rule`);
    } else strategies.push(found);
  }
  const fallbackRef = rule.rule.fallback;
  const fallbackObject =
    fallbackRef === undefined ? undefined : (resolveReference(fallbackRef, 'fallback', rule, app, ctx, referenced) as FallbackObject | undefined);
  if (fallbackObject !== undefined) referenced.add(fallbackObject);

  // Emit only a rule whose every part is valid: a half rule would enforce less than was written.
  if (!rule.rule.complete || rule.reporter.errorCount > before) return;
  if (strategies.length !== rule.rule.strategies.length) return;
  if (strategies.some((s) => s.strategy === undefined)) return;
  if (fallbackRef !== undefined && fallbackObject?.fallback === undefined) return;

  const fallback = fallbackObject === undefined ? undefined : toFallback(fallbackObject);
  for (const target of rule.rule.targets) {
    for (const s of strategies) {
      const id = ruleId({
        namespace: rule.namespace,
        app,
        ruleName: rule.name,
        strategyKind: s.kind,
        strategyName: s.name,
        resource: target.resource,
      });
      if (id.length > MAX_RULE_ID_LENGTH) {
        rule.reporter.errorAt(target.pos, target.at.path, `the rule identity ${id} is ${id.length} characters long; at most ${MAX_RULE_ID_LENGTH} allowed (shorten names or the target)`);
        continue;
      }
      const strategy: Strategy = { origin: { kind: s.kind, namespace: s.namespace, name: s.name, pos: s.pos }, spec: s.strategy! };
      const irRule: Rule = { id, namespace: rule.namespace, app, ruleName: rule.name, resource: target.resource, resourcePos: target.pos, strategy };
      if (fallback !== undefined) irRule.fallback = fallback;
      out.push(irRule);
    }
  }
}

function toFallback(o: FallbackObject): Fallback {
  return { origin: { kind: 'HttpRequestFallbackAction', namespace: o.namespace, name: o.name, pos: o.pos }, ...o.fallback! };
}

/** The one object `ref` names for `rule`, or undefined (reported, unless it is broken). */
function resolveReference(ref: Reference, role: Role, rule: RuleObject, app: string, ctx: ResolveContext, referenced: Set<LoadedObject>): LoadedObject | undefined {
  const sameName = ctx.index.named(ref.name);
  const sole = soleEligible(sameName, ref, role, rule.namespace, app);
  if (sole !== undefined) return sole;
  const matchesKind = (o: LoadedObject) => o.role === role && (ref.kind === undefined || o.kind === ref.kind);
  const inNamespace = sameName.filter((o) => o.namespace === rule.namespace);
  const candidates = inNamespace.filter(matchesKind);
  const eligible = candidates.filter((o) => o.app === undefined || o.app === app);
  if (eligible.length === 1) return eligible[0];
  // Every object named in the message below is accounted for by it: no "not referenced" warning too.
  for (const o of sameName) referenced.add(o);
  const brokenMatch = (o: LoadedObject) => o.role === 'broken' && (ref.kind === undefined ? roleOf(o.kind) === role : o.kind === ref.kind);
  if (eligible.length === 0 && inNamespace.some(brokenMatch)) return undefined;

  const what = ref.kind ?? (role === 'strategy' ? 'strategy' : 'fallback action');
  if (eligible.length > 1) {
    const list = eligible.map((o) => `${o.kind} (${formatPos(o.pos)})`).join(', ');
    rule.reporter.errorAt(ref.pos, ref.at.path, `${what} ${ref.name} is ambiguous in namespace ${rule.namespace}: ${list}; add kind to choose one`);
    return undefined;
  }

  const hints: string[] = [];
  for (const o of candidates) {
    hints.push(`found ${o.kind} ${o.name} of app ${o.app} (${formatPos(o.pos)}), but a referenced object that carries an app must carry the rule's app ${app}`);
  }
  for (const o of inNamespace.filter((o) => !matchesKind(o))) {
    hints.push(`found ${o.kind} ${o.name} (${formatPos(o.pos)}), ${kindMismatch(o, role, ref)}`);
  }
  for (const o of sameName.filter((o) => o.namespace !== rule.namespace && matchesKind(o))) {
    const note = o.namespace === ctx.defaultNamespace ? `; objects without metadata.namespace are in namespace ${ctx.defaultNamespace} (see --namespace)` : '';
    hints.push(`found ${o.kind} ${o.name} in namespace ${o.namespace} (${formatPos(o.pos)})${note}`);
  }
  const hint = hints.length > 0 ? `; ${hints.join('; ')}` : '';
  rule.reporter.errorAt(ref.pos, ref.at.path, `unknown ${what} ${ref.name} in namespace ${rule.namespace}${hint}`);
  return undefined;
}

/** The common case, found without building lists: exactly one object `ref` can mean. */
function soleEligible(sameName: readonly LoadedObject[], ref: Reference, role: Role, namespace: string, app: string): LoadedObject | undefined {
  let found: LoadedObject | undefined;
  for (const o of sameName) {
    if (o.namespace !== namespace || o.role !== role || (ref.kind !== undefined && o.kind !== ref.kind)) continue;
    if (o.app !== undefined && o.app !== app) continue;
    if (found !== undefined) return undefined;
    found = o;
  }
  return found;
}

function roleOf(kind: string): Role | undefined {
  return isStrategyKind(kind) ? 'strategy' : kind === FALLBACK_KIND ? 'fallback' : undefined;
}

function kindMismatch(o: LoadedObject, role: Role, ref: Reference): string {
  if (o.role === 'unsupported') return 'which sergo-wasm does not support';
  if (o.role === role) return `but the reference asks for kind ${ref.kind}`;
  return role === 'strategy' ? 'which is not a strategy' : 'which is not an HttpRequestFallbackAction';
}
