// FaultToleranceRule: targets × strategies, plus an optional fallback action. References are only
// read here; they are resolved against the other objects in resolve.ts.
import type { SourcePos } from '../../diagnostics.ts';
import { STRATEGY_KINDS } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readEnum, readList, readMap, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readApp } from '../metadata.ts';
import { normalizeResource, resourceProblem } from '../resource.ts';

const KNOWN_FIELDS = ['selector', 'targets', 'strategies', 'fallbackAction'];
const TARGET_FIELDS = ['targetResourceName'];
const REFERENCE_FIELDS = ['name', 'kind'];
export const FALLBACK_KIND = 'HttpRequestFallbackAction';

/** A reference to another object by name (and optionally kind), with where it is written. */
export interface Reference {
  name: string;
  kind?: string;
  /** Position of the name, where resolution errors point. */
  pos: SourcePos;
  /** The name's field, for its path (`at.path`) in messages: built only when one is reported. */
  at: Cursor;
}

export interface Target {
  resource: string;
  pos: SourcePos;
  /** The field, for its path in messages. */
  at: Cursor;
}

export interface RuleSpec {
  /** `spec.selector.app`, if given. */
  selectorApp?: { app: string };
  targets: Target[];
  strategies: Reference[];
  fallback?: Reference;
  /** False when a part could not be read (errors reported); the readable parts are still resolved. */
  complete: boolean;
}

export function readFaultToleranceRule(spec: Cursor, r: Reporter): RuleSpec {
  const before = r.errorCount;
  const selectorApp = readSelector(spec.get('selector'), r);
  const targets: Target[] = [];
  for (const t of readList(spec.get('targets'), r, { nonEmpty: true }) ?? []) readTarget(t, r, targets);
  const strategies: Reference[] = [];
  for (const s of readList(spec.get('strategies'), r, { nonEmpty: true }) ?? []) readReference(s, r, STRATEGY_KINDS, strategies);
  const fallbackField = spec.get('fallbackAction');
  const fallback = fallbackField.present ? readFallbackReference(fallbackField, r) : undefined;
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  rejectDuplicateTargets(targets, r);
  return { selectorApp, targets, strategies, fallback, complete: r.errorCount === before };
}

function readSelector(c: Cursor, r: Reporter): RuleSpec['selectorApp'] {
  const selector = readMap(c, r, { optional: true });
  if (selector === undefined) return undefined;
  for (const key of selector.keyNames()) {
    if (key !== 'app') r.warning(selector.get(key), 'ignored: only app selects where a rule applies');
  }
  const app = selector.get('app');
  const value = readApp(app, r);
  return value === undefined ? undefined : { app: value };
}

/** Appends the target `c` to `out` when it is valid. */
function readTarget(c: Cursor, r: Reporter, out: Target[]): void {
  if (readMap(c, r) === undefined) return;
  const field = c.get('targetResourceName');
  r.warnUnknownFields(c, TARGET_FIELDS);
  const name = readString(field, r, { nonEmpty: true });
  if (name === undefined) return;
  const resource = normalizeResource(name);
  const problem = resourceProblem(resource);
  if (problem !== undefined) r.error(field, problem);
  else out.push({ resource, pos: field.pos, at: field });
}

/** Appends the reference `c` to `out` when it is valid. */
function readReference(c: Cursor, r: Reporter, kinds: readonly string[], out: Reference[]): void {
  if (readMap(c, r) === undefined) return;
  const nameField = c.get('name');
  const name = readString(nameField, r, { nonEmpty: true });
  const kindField = c.get('kind');
  const kind = readEnum(kindField, r, kinds, { optional: true });
  r.warnUnknownFields(c, REFERENCE_FIELDS);
  if (name === undefined || (kindField.present && kind === undefined)) return;
  out.push({ name, kind, pos: nameField.pos, at: nameField });
}

/** `fallbackAction: name` (spec text) or `{name, kind}` (the proto's FaultToleranceActionRef). */
function readFallbackReference(c: Cursor, r: Reporter): Reference | undefined {
  if (c.isMap) {
    const found: Reference[] = [];
    readReference(c, r, [FALLBACK_KIND], found);
    return found[0];
  }
  const name = readString(c, r, { nonEmpty: true });
  return name === undefined ? undefined : { name, pos: c.pos, at: c };
}

function rejectDuplicateTargets(targets: Target[], r: Reporter): void {
  if (targets.length < 2) return;
  const seen = new Map<string, Target>();
  for (const target of targets) {
    const first = seen.get(target.resource);
    if (first === undefined) seen.set(target.resource, target);
    else r.errorAt(target.pos, target.at.path, `duplicate target: already listed at ${first.at.path}`);
  }
}
