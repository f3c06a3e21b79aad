// Field shapes of Istio's API that traffic kinds share: durations (Go / protobuf style, `1.5s`,
// `250ms`, `1m30s`), Percent (`{value: 0..100}`) and Headers operations.
import type { HeaderOperations, HeaderOps } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { isGiven, readList, readMap, readString, readText } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
/** Envoy and the filter hold durations as whole milliseconds well within 32 bits. */
const MAX_MS = 2_147_483_647;

/** A duration as Istio writes it, in whole milliseconds (`allowZero`: `0s` where Istio means "none"). */
export function readIstioDuration(c: Cursor, r: Reporter, opts: { optional?: boolean; allowZero?: boolean } = {}): number | undefined {
  const text = readString(c, r, opts);
  if (text === undefined) return undefined;
  if (!DURATION.test(text)) {
    r.error(c, `'${text}' is not a duration: expected a number and a unit (h, m, s, ms), e.g. '1.5s', '250ms', '1m30s'`);
    return undefined;
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  ms = Math.round(ms * 1e6) / 1e6;
  if (!Number.isInteger(ms)) {
    r.error(c, `'${text}' is not a whole number of milliseconds`);
    return undefined;
  }
  if (ms === 0 && opts.allowZero !== true) {
    r.error(c, `'${text}': must not be zero`);
    return undefined;
  }
  if (ms > MAX_MS) {
    r.error(c, `'${text}' is too long: at most ${MAX_MS} ms`);
    return undefined;
  }
  return ms;
}

/** Istio Percent `{value: 0..100}` (a double). */
export function readPercentage(c: Cursor, r: Reporter, opts: { optional?: boolean } = {}): number | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['value']);
  const v = c.get('value').value;
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) {
    r.error(c.get('value'), `must be a number from 0 to 100, not ${c.get('value').describe()}${typeof v === 'number' ? ` (${v})` : ''}`);
    return undefined;
  }
  return v;
}

/** Istio Headers: `{request, response}`, each `{set, add, remove}`. */
export function readHeaderOperations(c: Cursor, r: Reporter): HeaderOperations | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['request', 'response']);
  const request = readHeaderOps(c.get('request'), r);
  const response = readHeaderOps(c.get('response'), r);
  return request === undefined || response === undefined ? undefined : { request, response };
}

function readHeaderOps(c: Cursor, r: Reporter): HeaderOps | undefined {
  const empty: HeaderOps = { set: [], add: [], remove: [] };
  if (!c.present) return empty;
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['set', 'add', 'remove']);
  const before = r.errorCount;
  const pairs = (field: Cursor): Array<[string, string]> => {
    if (!field.present || readMap(field, r) === undefined) return [];
    return field.keys().flatMap(({ key }) => {
      const value = readText(field.get(key), r);
      return value === undefined ? [] : [[key.toLowerCase(), value] as [string, string]];
    });
  };
  const set = pairs(c.get('set'));
  const add = pairs(c.get('add'));
  const remove = (readList(c.get('remove'), r, { optional: true }) ?? []).map((n) => readString(n, r, { nonEmpty: true })?.toLowerCase() ?? '');
  return r.errorCount > before ? undefined : { set, add, remove };
}
