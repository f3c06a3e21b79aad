// The resources the controller reads and writes, as the API server names them.
import { FAULT_TOLERANCE_GROUP, RULE_KIND, WASM_PLUGIN_API_VERSION } from './translate.ts';

export { FAULT_TOLERANCE_GROUP } from './translate.ts';

export interface WatchedKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

const ft = (kind: string, plural: string): WatchedKind => ({ group: FAULT_TOLERANCE_GROUP, version: 'v1alpha1', kind, plural });

/** The OpenSergo kinds the translator reads: the FaultToleranceRule first, then what it refers to. */
export const KINDS: readonly WatchedKind[] = [
  ft(RULE_KIND, 'faulttolerancerules'),
  ft('RateLimitStrategy', 'ratelimitstrategies'),
  ft('ThrottlingStrategy', 'throttlingstrategies'),
  ft('ConcurrencyLimitStrategy', 'concurrencylimitstrategies'),
  ft('CircuitBreakerStrategy', 'circuitbreakerstrategies'),
  ft('HttpRequestFallbackAction', 'httprequestfallbackactions'),
];

const [wasmGroup, wasmVersion] = WASM_PLUGIN_API_VERSION.split('/') as [string, string];
export const WASM_PLUGIN: WatchedKind = { group: wasmGroup, version: wasmVersion, kind: 'WasmPlugin', plural: 'wasmplugins' };

/** Labels of every WasmPlugin the controller writes; it touches no other. */
export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'sergo-controller' } as const;
export const APP_LABEL = 'sergo.opensergo.io/app';

/** `/apis/GROUP/VERSION[/namespaces/NS]/PLURAL` */
export function collectionPath(kind: WatchedKind, namespace?: string): string {
  const ns = namespace === undefined ? '' : `/namespaces/${namespace}`;
  return `/apis/${kind.group}/${kind.version}${ns}/${kind.plural}`;
}
