// One block of `http[].match` (Istio HTTPMatchRequest): every condition ANDs. Fields some targets
// cannot express (port, sourceLabels, gateways, sourceNamespace) are kept with their positions so
// that such a target refuses them by name.
import type { IstioOnlyMatch, RequestMatch, StringMatch } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readBoolean, readInteger, readList, readMap, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readLabels } from './endpoints.ts';
import { readKeyMatches, readStringMatch } from './string-match.ts';

const MATCH_FIELDS = [
  'name', 'uri', 'scheme', 'method', 'authority', 'headers', 'withoutHeaders', 'queryParams', 'ignoreUriCase',
  'port', 'sourceLabels', 'gateways', 'sourceNamespace', 'statPrefix',
];
const STRING_FIELDS = ['uri', 'scheme', 'method', 'authority'] as const;

/** The block, or undefined when some field is invalid (reported). */
export function readRequestMatch(c: Cursor, r: Reporter): RequestMatch | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, MATCH_FIELDS);
  const before = r.errorCount;
  const strings: Partial<Record<(typeof STRING_FIELDS)[number], StringMatch>> = {};
  for (const field of STRING_FIELDS) {
    if (!c.get(field).present) continue;
    const match = readStringMatch(c.get(field), r);
    if (match !== undefined && match !== 'present') strings[field] = match;
  }
  const headers = readKeyMatches(c.get('headers'), r, 'header');
  const withoutHeaders = readKeyMatches(c.get('withoutHeaders'), r, 'header');
  const queryParams = readKeyMatches(c.get('queryParams'), r, 'query');
  const ignoreUriCase = readBoolean(c.get('ignoreUriCase'), r, { optional: true }) ?? false;
  const name = readString(c.get('name'), r, { optional: true });
  if (c.get('statPrefix').present) r.error(c.get('statPrefix'), 'is not supported by sergo-wasm (no target emits per-match stat prefixes)');
  const istioOnly = readIstioOnly(c, r);
  if (r.errorCount > before || headers === undefined || withoutHeaders === undefined || queryParams === undefined) return undefined;
  return { pos: c.pos, field: c.path, name, ...strings, headers, withoutHeaders, queryParams, ignoreUriCase, istioOnly };
}

function readIstioOnly(c: Cursor, r: Reporter): IstioOnlyMatch {
  const out: IstioOnlyMatch = { written: [] };
  const note = (field: Cursor) => out.written.push({ pos: field.pos, field: field.path });
  if (c.get('port').present) {
    out.port = readInteger(c.get('port'), r, { min: 1, max: 65535 });
    note(c.get('port'));
  }
  if (c.get('sourceLabels').present) {
    out.sourceLabels = readLabels(c.get('sourceLabels'), r);
    note(c.get('sourceLabels'));
  }
  if (c.get('gateways').present) {
    out.gateways = (readList(c.get('gateways'), r) ?? []).map((g) => readString(g, r, { nonEmpty: true }) ?? '');
    note(c.get('gateways'));
  }
  if (c.get('sourceNamespace').present) {
    out.sourceNamespace = readString(c.get('sourceNamespace'), r, { nonEmpty: true });
    note(c.get('sourceNamespace'));
  }
  return out;
}
