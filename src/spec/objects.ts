// One document → one object: recognise its kind, read its metadata, validate its spec. Objects that
// are neither fault-tolerance kinds nor traffic kinds (TrafficRouter, TrafficLane; Istio DestinationRule
// for the subsets) are skipped with a warning (they are kept, unvalidated, so that a reference to one
// can say what it is). A fault-tolerance object of another version is an error: it was meant to be
// enforced.
import type { Diagnostics, SourcePos } from '../diagnostics.ts';
import type { FallbackResponse, StrategyKind, StrategySpec } from '../ir/model.ts';
import type { Cursor } from './cursor.ts';
import { readMap, readString } from './fields.ts';
import { readFaultToleranceRule, type RuleSpec } from './kinds/fault-tolerance-rule.ts';
import { readHttpRequestFallbackAction } from './kinds/http-request-fallback-action.ts';
import {
  FALLBACK_KIND,
  FAULT_TOLERANCE_API_VERSION,
  FAULT_TOLERANCE_GROUP,
  isStrategyKind,
  RULE_KIND,
  STRATEGY_READERS,
} from './kinds/index.ts';
import { didYouMean } from './closest.ts';
import { readTrafficLane, TRAFFIC_LANE_KIND, type LaneSpec } from './kinds/traffic-lane.ts';
import { readMetadata } from './metadata.ts';
import { Reporter } from './reporter.ts';
import { DESTINATION_RULE_KIND, DESTINATION_RULE_VERSIONS, readDestinationRule, type DestinationRuleSpec } from './traffic/destination-rule.ts';
import { readTrafficRouter, TRAFFIC_API_VERSION, TRAFFIC_ROUTER_KIND, type RouterSpec } from './traffic/traffic-router.ts';

interface ObjectHeader {
  kind: string;
  name: string;
  namespace: string;
  /** The app the object carries, if any. */
  app?: string;
  /** Position of `metadata.name`. */
  pos: SourcePos;
  reporter: Reporter;
}

/** A spec left undefined was invalid (already reported). */
export type LoadedObject =
  | (ObjectHeader & { role: 'strategy'; kind: StrategyKind; strategy?: StrategySpec })
  | (ObjectHeader & { role: 'fallback'; fallback?: FallbackResponse })
  | (ObjectHeader & { role: 'rule'; rule: RuleSpec })
  | (ObjectHeader & { role: 'lane'; lane?: LaneSpec })
  | (ObjectHeader & { role: 'router'; router?: RouterSpec })
  | (ObjectHeader & { role: 'destinationRule'; apiVersion: string; destinationRule?: DestinationRuleSpec })
  | (ObjectHeader & { role: 'unsupported' })
  /** Reported as wrong as a whole (another version, invalid YAML): references to it add nothing. */
  | (ObjectHeader & { role: 'broken' });

export function loadObject(root: Cursor, diagnostics: Diagnostics, defaultNamespace: string): LoadedObject | undefined {
  const kindField = root.get('kind');
  const nameField = root.get('metadata').get('name');
  const rawKind = kindField.value;
  const rawName = nameField.value;
  const label = `${typeof rawKind === 'string' ? rawKind : '(no kind)'}/${typeof rawName === 'string' ? rawName : '(unnamed)'}`;
  const r = new Reporter(diagnostics, label);

  const apiVersion = readString(root.get('apiVersion'), r, { nonEmpty: true });
  const kind = readString(kindField, r, { nonEmpty: true });
  if (apiVersion === undefined || kind === undefined) return undefined;

  const skipped = skipReason(apiVersion, kind);
  if (skipped?.error === true) {
    r.error(root.get(skipped.field), skipped.message);
    return nameOnly(root, kind, r, defaultNamespace, 'broken');
  }
  if (skipped !== undefined) {
    r.warning(root.get(skipped.field), `${skipped.message}; skipped`);
    return nameOnly(root, kind, r, defaultNamespace, 'unsupported');
  }

  const metadata = readMetadata(root, r, defaultNamespace);
  const spec = readMap(root.get('spec'), r);
  if (metadata.name === undefined) return undefined;
  const header = {
    name: metadata.name,
    namespace: metadata.namespace,
    app: metadata.labelApp?.app,
    pos: nameField.pos,
    reporter: r,
  };

  if (isStrategyKind(kind)) {
    return { ...header, role: 'strategy', kind, strategy: spec && STRATEGY_READERS[kind](spec, r) };
  }
  if (kind === TRAFFIC_LANE_KIND) {
    return { ...header, role: 'lane', kind, lane: spec && readTrafficLane(spec, r) };
  }
  if (kind === TRAFFIC_ROUTER_KIND) {
    return { ...header, role: 'router', kind, router: spec && readTrafficRouter(spec, r, metadata.namespace) };
  }
  if (kind === DESTINATION_RULE_KIND) {
    return { ...header, role: 'destinationRule', kind, apiVersion, destinationRule: spec && readDestinationRule(spec, r, apiVersion, metadata.namespace) };
  }
  if (kind === FALLBACK_KIND) {
    return { ...header, role: 'fallback', kind, fallback: spec && readHttpRequestFallbackAction(spec, r) };
  }
  // RULE_KIND: the only other kind skipReason lets through.
  const rule = spec === undefined ? { targets: [], strategies: [], complete: false } : readFaultToleranceRule(spec, r);
  const app = ruleApp(rule, metadata.labelApp, r, root);
  return { ...header, app, role: 'rule', kind, rule };
}

/** Why an object is not handled (an error when it was meant to be), or undefined when it is. */
function skipReason(apiVersion: string, kind: string): { field: string; message: string; error?: boolean } | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? apiVersion : apiVersion.slice(0, slash);
  if (kind === DESTINATION_RULE_KIND && DESTINATION_RULE_VERSIONS.includes(apiVersion)) return undefined;
  if (kind === TRAFFIC_ROUTER_KIND && apiVersion === TRAFFIC_API_VERSION) return undefined;
  if (group !== 'opensergo.io' && !group.endsWith('.opensergo.io')) {
    return { field: 'apiVersion', message: `not an OpenSergo object (apiVersion ${apiVersion})` };
  }
  if (apiVersion === TRAFFIC_API_VERSION && kind === TRAFFIC_LANE_KIND) return undefined;
  if (group !== FAULT_TOLERANCE_GROUP) {
    return { field: 'kind', message: `${apiVersion} ${kind} is not a fault-tolerance object; sergo-wasm does not handle it` };
  }
  if (apiVersion !== FAULT_TOLERANCE_API_VERSION) {
    return { field: 'apiVersion', message: `${apiVersion} is not supported (only ${FAULT_TOLERANCE_API_VERSION}): its rules would not be enforced`, error: true };
  }
  if (kind !== RULE_KIND && kind !== FALLBACK_KIND && !isStrategyKind(kind)) {
    return { field: 'kind', message: `${kind} is not supported by sergo-wasm${didYouMean(kind, KNOWN_KINDS)}` };
  }
  return undefined;
}

const KNOWN_KINDS = [RULE_KIND, FALLBACK_KIND, ...Object.keys(STRATEGY_READERS)];

/** Skipped and broken objects are kept only by name, to explain (or silence) references to them. */
export function nameOnly(root: Cursor, kind: string, r: Reporter, defaultNamespace: string, role: 'unsupported' | 'broken'): LoadedObject | undefined {
  const metadata = root.get('metadata');
  const name = metadata.get('name').value;
  const namespace = metadata.get('namespace').value;
  if (typeof name !== 'string') return undefined;
  return {
    role,
    kind,
    name,
    namespace: typeof namespace === 'string' ? namespace : defaultNamespace,
    pos: metadata.get('name').pos,
    reporter: r,
  };
}

/** `spec.selector.app`, else `metadata.labels.app`; a rule without an app applies nowhere. */
function ruleApp(
  rule: RuleSpec,
  labelApp: { app: string } | undefined,
  r: Reporter,
  root: Cursor,
): string | undefined {
  const selectorApp = rule.selectorApp;
  if (selectorApp !== undefined && labelApp !== undefined && selectorApp.app !== labelApp.app) {
    r.warning(
      root.get('spec').get('selector').get('app'),
      `differs from metadata.labels.app '${labelApp.app}'; spec.selector.app '${selectorApp.app}' is used`,
    );
  }
  const app = selectorApp?.app ?? labelApp?.app;
  if (app === undefined && !appWritten(root) && root.get('spec').isMap) {
    r.error(
      root.get('spec').get('selector').get('app'),
      'the rule names no app: set spec.selector.app (or metadata.labels.app)',
    );
  }
  return app;
}

/** Whether an app is written at all (an invalid one is reported already). */
function appWritten(root: Cursor): boolean {
  return root.get('spec').get('selector').get('app').present || root.get('metadata').get('labels').get('app').present;
}
