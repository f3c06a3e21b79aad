// Translator extension: `errorConditions.statusCodes` lists what an ErrorRequestRatio breaker counts
// as an error — integers (`503`) and inclusive ranges (`"502-504"`). OpenSergo never defined an error
// for HTTP; without this list the filter counts 5xx.
import { LIMITS } from '../../ir/limits.ts';
import type { StatusRange } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readList } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

export const DEFAULT_ERROR_STATUS: StatusRange[] = [[500, 599]];
const MAX_RANGES = LIMITS.errorStatusRanges.maxItems;
const MIN_STATUS = LIMITS.errorStatusCode.min;
const MAX_STATUS = LIMITS.errorStatusCode.max;

export function readErrorStatusCodes(c: Cursor, r: Reporter): StatusRange[] | undefined {
  const items = readList(c, r, { nonEmpty: true });
  if (items === undefined) return undefined;
  const before = r.errorCount;
  const ranges = items.map((item) => readStatusRange(item, r));
  if (r.errorCount > before) return undefined;
  const merged = mergeRanges(ranges as StatusRange[]);
  if (merged.length > MAX_RANGES) {
    r.error(c, `lists ${merged.length} separate ranges; at most ${MAX_RANGES} allowed`);
    return undefined;
  }
  return merged;
}

function readStatusRange(c: Cursor, r: Reporter): StatusRange | undefined {
  const v = c.value;
  let range: StatusRange | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) range = [v, v];
  else if (typeof v === 'string') {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(v.trim());
    if (m !== null) range = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (range === undefined) {
    r.error(c, `must be a status code (503) or an inclusive range ("502-504"), not ${describe(c)}`);
    return undefined;
  }
  if (range[0] < MIN_STATUS || range[1] > MAX_STATUS) {
    r.error(c, `status codes must be between ${MIN_STATUS} and ${MAX_STATUS}`);
    return undefined;
  }
  if (range[0] > range[1]) {
    r.error(c, `range "${v}" is reversed; write the lower code first`);
    return undefined;
  }
  return range;
}

function describe(c: Cursor): string {
  return typeof c.value === 'string' || typeof c.value === 'number' ? `'${String(c.value)}'` : c.describe();
}

/** Sorted, with overlapping and adjacent ranges joined, so equal meanings give equal output. */
export function mergeRanges(ranges: readonly StatusRange[]): StatusRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}
