// Typed readers for single fields. Each reports its own problem (at the field's position, with the
// field's path) and returns undefined, so validators collect every error instead of stopping.
import type { Cursor } from './cursor.ts';
import { parseDuration } from './duration.ts';
import { parsePercent } from './percent.ts';
import type { Reporter } from './reporter.ts';

export interface Presence {
  /** Absent optional fields return undefined without a report. */
  optional?: boolean;
}

/** Reports a missing required field; true when a value is there to read. */
export function isGiven(c: Cursor, r: Reporter, opts: Presence = {}): boolean {
  if (c.present) return true;
  const near = opts.optional ? undefined : c.nearMiss();
  if (!opts.optional) r.error(c, near === undefined ? 'is required' : `is required (${near} is written: a typo?)`);
  return false;
}

export function readMap(c: Cursor, r: Reporter, opts: Presence = {}): Cursor | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  if (!c.isMap) {
    r.error(c, `must be a mapping, not ${c.describe()}`);
    return undefined;
  }
  return c;
}

export function readList(c: Cursor, r: Reporter, opts: Presence & { nonEmpty?: boolean } = {}): Cursor[] | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  if (!c.isSeq) {
    r.error(c, `must be a list, not ${c.describe()}`);
    return undefined;
  }
  const items = c.items();
  if (opts.nonEmpty && items.length === 0) {
    r.error(c, 'must not be empty');
    return undefined;
  }
  return items;
}

export function readString(
  c: Cursor,
  r: Reporter,
  opts: Presence & { nonEmpty?: boolean; maxLength?: number } = {},
): string | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v !== 'string') {
    r.error(c, `must be a string, not ${c.describe()}`);
    return undefined;
  }
  if (opts.nonEmpty && v === '') {
    r.error(c, 'must not be empty');
    return undefined;
  }
  if (opts.maxLength !== undefined && v.length > opts.maxLength) {
    r.error(c, `is ${v.length} characters long; at most ${opts.maxLength} allowed`);
    return undefined;
  }
  return v;
}

/**
 * A string, also accepting scalars that YAML types otherwise (`value: 12345`, `value: true`): they are
 * taken as written, since the field is text by definition (HTTP header values, bodies).
 */
export function readText(c: Cursor, r: Reporter, opts: Presence = {}): string | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return c.sourceText ?? String(v);
  r.error(c, `must be a string, not ${c.describe()}`);
  return undefined;
}

export function readInteger(
  c: Cursor,
  r: Reporter,
  bounds: { min: number; max: number },
  opts: Presence = {},
): number | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    r.error(c, `must be an integer, not ${c.describe()}${typeof v === 'string' ? ` ('${v}')` : ''}`);
    return undefined;
  }
  if (!Number.isInteger(v)) {
    r.error(c, `must be an integer, not ${v}`);
    return undefined;
  }
  if (v < bounds.min || v > bounds.max) {
    r.error(c, `must be between ${bounds.min} and ${bounds.max}, not ${v}`);
    return undefined;
  }
  return v;
}

/** A YAML boolean (`true` / `false`); a quoted "true" is a string and an error. */
export function readBoolean(c: Cursor, r: Reporter, opts: Presence = {}): boolean | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v !== 'boolean') {
    r.error(c, `must be true or false, not ${c.describe()}${typeof v === 'string' ? ` ('${v}')` : ''}`);
    return undefined;
  }
  return v;
}

export function readEnum<T extends string>(c: Cursor, r: Reporter, values: readonly T[], opts: Presence = {}): T | undefined {
  const v = readString(c, r, opts);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    r.error(c, `'${v}' is not one of ${values.join(', ')}`);
    return undefined;
  }
  return v as T;
}

/** A duration string in ms (see duration.ts); `allowZero` only where the CRD allows `0ms`. */
export function readDuration(c: Cursor, r: Reporter, opts: Presence & { allowZero?: boolean } = {}): number | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v !== 'string') {
    r.error(c, `must be a duration string such as '500ms' or '30s', not ${c.describe()}`);
    return undefined;
  }
  const parsed = parseDuration(v, opts.allowZero ?? false);
  if ('error' in parsed) {
    r.error(c, `invalid duration ${parsed.error}`);
    return undefined;
  }
  return parsed.ms;
}

/** A percent string (`'60%'`) as a ratio 0..1. */
export function readPercent(c: Cursor, r: Reporter, opts: Presence = {}): number | undefined {
  if (!isGiven(c, r, opts)) return undefined;
  const v = c.value;
  if (typeof v !== 'string') {
    r.error(c, `must be a percent string such as '60%', not ${c.describe()}`);
    return undefined;
  }
  const ratio = parsePercent(v);
  if (ratio === undefined) {
    r.error(c, `invalid percent '${v}': expected a whole percent from 0% to 100%, e.g. '60%'`);
    return undefined;
  }
  return ratio;
}
