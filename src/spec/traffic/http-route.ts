// One entry of TrafficRouter `spec.http` (Istio HTTPRoute). Fields sergo-wasm has no target for are
// errors naming them (never dropped): corsPolicy, delegate, mirrors, mirrorPercent.
import type { HttpRoute, RequestMatch, WeightedDestination } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readInteger, readList, readMap, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readDestination } from './destination.ts';
import { readHeaderOperations, readIstioDuration } from './istio-fields.ts';
import { readRequestMatch } from './match.ts';
import { readDirectResponse, readFault, readMirror, readRedirect, readRetries, readRewrite } from './route-actions.ts';

const ROUTE_FIELDS = [
  'name', 'match', 'route', 'redirect', 'directResponse', 'rewrite', 'timeout', 'retries', 'fault', 'mirror',
  'mirrorPercentage', 'headers', 'corsPolicy', 'delegate', 'mirrors', 'mirrorPercent', 'mirror_percent',
];
const REFUSED: Record<string, string> = {
  corsPolicy: 'is not supported by sergo-wasm (no target emits CORS policies yet)',
  delegate: 'is not supported by sergo-wasm (delegation needs other VirtualServices)',
  mirrors: 'is not supported by sergo-wasm: use mirror and mirrorPercentage',
  mirrorPercent: 'is deprecated in Istio and not supported: use mirrorPercentage {value: 0..100}',
  mirror_percent: 'is deprecated in Istio and not supported: use mirrorPercentage {value: 0..100}',
};

export function readHttpRoute(c: Cursor, r: Reporter, namespace: string): HttpRoute | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ROUTE_FIELDS);
  const before = r.errorCount;
  for (const [field, message] of Object.entries(REFUSED)) if (c.get(field).present) r.error(c.get(field), message);
  const name = readString(c.get('name'), r, { optional: true, nonEmpty: true });
  const match = readMatches(c.get('match'), r);
  const route = c.get('route').present ? readWeightedDestinations(c.get('route'), r, namespace) : [];
  const out: HttpRoute = { pos: c.pos, field: c.path, name, match: match ?? [], route: route ?? [] };
  const optional = <T>(field: string, read: (f: Cursor) => T | undefined): T | undefined => (c.get(field).present ? read(c.get(field)) : undefined);
  out.redirect = optional('redirect', (f) => readRedirect(f, r));
  out.directResponse = optional('directResponse', (f) => readDirectResponse(f, r));
  out.rewrite = optional('rewrite', (f) => readRewrite(f, r));
  out.timeoutMs = optional('timeout', (f) => readIstioDuration(f, r, { allowZero: true }));
  out.retries = optional('retries', (f) => readRetries(f, r));
  out.fault = optional('fault', (f) => readFault(f, r));
  out.mirror = optional('mirror', () => readMirror(c, r, namespace));
  if (c.get('mirrorPercentage').present && !c.get('mirror').present) r.error(c.get('mirrorPercentage'), 'needs mirror');
  out.headers = optional('headers', (f) => readHeaderOperations(f, r));
  checkActions(c, r);
  return r.errorCount > before ? undefined : out;
}

function readMatches(c: Cursor, r: Reporter): RequestMatch[] | undefined {
  const items = readList(c, r, { optional: true });
  if (items === undefined) return c.present ? undefined : [];
  const blocks = items.map((item) => readRequestMatch(item, r));
  return blocks.every((b) => b !== undefined) ? (blocks as RequestMatch[]) : undefined;
}

function readWeightedDestinations(c: Cursor, r: Reporter, namespace: string): WeightedDestination[] | undefined {
  const items = readList(c, r, { nonEmpty: true });
  if (items === undefined) return undefined;
  const out: WeightedDestination[] = [];
  for (const item of items) {
    if (readMap(item, r) === undefined) continue;
    r.warnUnknownFields(item, ['destination', 'weight', 'headers']);
    const destination = readDestination(item.get('destination'), r, namespace, true);
    // Istio: a lone destination gets all traffic; among several, an absent weight is 0.
    const weight = readInteger(item.get('weight'), r, { min: 0, max: 1_000_000 }, { optional: true }) ?? (items.length === 1 ? 100 : 0);
    const headers = item.get('headers').present ? readHeaderOperations(item.get('headers'), r) : undefined;
    if (destination !== undefined) out.push({ pos: item.pos, field: item.path, destination, weight, ...(headers === undefined ? {} : { headers }) });
  }
  if (out.length === items.length && out.every((d) => d.weight === 0)) r.error(c, 'the weights sum to 0: no destination would receive traffic');
  return out;
}

/** Istio: exactly one of route, redirect, directResponse; rewrite and mirror need a route. */
function checkActions(c: Cursor, r: Reporter): void {
  const actions = ['route', 'redirect', 'directResponse'].filter((f) => c.get(f).present);
  if (actions.length === 0) r.error(c, 'must set one of route, redirect, directResponse');
  if (actions.length > 1) r.error(c.get(actions[1]!), `cannot be combined with ${actions[0]}: an HTTP route does one of route, redirect, directResponse`);
  for (const field of ['rewrite', 'retries', 'mirror', 'timeout', 'fault']) {
    if (c.get(field).present && !c.get('route').present && actions.length === 1) {
      r.error(c.get(field), `needs route (it does not apply to ${actions[0]})`);
    }
  }
}
