// Istio StringMatch (`exact` | `prefix` | `regex`, one of them; regex is RE2) and the maps of them
// that `headers`, `withoutHeaders` and `queryParams` are (an empty StringMatch means "present").
import type { KeyMatch, StringMatch } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readMap, readText } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { re2Problem } from './re2.ts';

export const STRING_MATCH_KINDS = ['exact', 'prefix', 'regex'] as const;
/** Istio ignores these names in `headers`: they have fields of their own. */
const PSEUDO_HEADERS = ['uri', 'scheme', 'method', 'authority'];
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** A StringMatch; `allowEmpty`: `{}` is "present" (returns 'present'). Undefined when invalid (reported). */
export function readStringMatch(c: Cursor, r: Reporter, allowEmpty = false): StringMatch | 'present' | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, STRING_MATCH_KINDS);
  const given = STRING_MATCH_KINDS.filter((kind) => c.get(kind).present);
  if (given.length === 0) {
    if (allowEmpty) return 'present';
    r.error(c, 'must set one of exact, prefix, regex');
    return undefined;
  }
  if (given.length > 1) {
    r.error(c, `sets ${given.join(' and ')}: a StringMatch is one of exact, prefix, regex`);
    return undefined;
  }
  const kind = given[0]!;
  const field = c.get(kind);
  const value = readText(field, r);
  if (value === undefined) return undefined;
  if (kind === 'regex') {
    const problem = re2Problem(value);
    if (problem !== undefined) {
      r.error(field, `'${value}' is not an RE2 regular expression: ${problem}`);
      return undefined;
    }
  }
  return { kind, value, pos: field.pos, field: field.path };
}

/** `headers` / `withoutHeaders` / `queryParams`: name → StringMatch; undefined when any entry is invalid. */
export function readKeyMatches(c: Cursor, r: Reporter, what: 'header' | 'query'): KeyMatch[] | undefined {
  if (!c.present) return [];
  if (readMap(c, r) === undefined) return undefined;
  const out: KeyMatch[] = [];
  let ok = true;
  for (const { key, pos } of c.keys()) {
    const entry = c.get(key);
    const name = what === 'header' ? key.toLowerCase() : key;
    if (what === 'header' && (!HEADER_NAME.test(name) || PSEUDO_HEADERS.includes(name))) {
      r.errorAt(pos, entry.path, PSEUDO_HEADERS.includes(name)
        ? `'${key}' is not matched as a header (Istio ignores it here): use match.${name}`
        : `'${key}' is not a valid HTTP header name`);
      ok = false;
      continue;
    }
    // `name:` with no value is a presence check too.
    const match = entry.present ? readStringMatch(entry, r, true) : 'present';
    if (match === undefined) ok = false;
    else out.push({ name, pos, field: entry.path, ...(match === 'present' ? {} : { match }) });
  }
  return ok ? out : undefined;
}
