// OpenSergo duration strings: a whole number and one unit, exactly as the CRDs' patterns allow.
// `m` means minutes. No fractions, no composites like `1m30s`.
import { MAX_DURATION_MS } from '../ir/limits.ts';

/** Milliseconds per unit. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, d: 86_400_000 };

/** The CRD pattern for durations that must not be zero. */
export const NON_ZERO_DURATION = /^[1-9]\d*(s|ms|m|min|minute|h|d)$/;
/** The CRD pattern for `minIntervalOfRequests` (zero allowed). */
export const DURATION = /^\d+(s|ms|m|min|minute|h|d)$/;

/** The filter stores milliseconds as i32. */
export const MAX_MS = MAX_DURATION_MS;

export type DurationResult = { ms: number } | { error: string };

export function parseDuration(text: string, allowZero: boolean): DurationResult {
  const pattern = allowZero ? DURATION : NON_ZERO_DURATION;
  const match = pattern.exec(text);
  if (match === null) return { error: explain(text, allowZero) };
  const amount = Number(text.slice(0, text.length - match[1]!.length));
  const ms = amount * UNIT_MS[match[1]!]!;
  if (ms > MAX_MS) {
    return { error: `'${text}' is too long: ${ms} ms exceeds the filter's maximum of ${MAX_MS} ms (about 24.8 days)` };
  }
  return { ms };
}

function explain(text: string, allowZero: boolean): string {
  const expected = `expected a whole number and one unit (ms, s, m, min, minute, h, d), e.g. '500ms', '30s', '5min'`;
  if (/^\d+\.\d*[a-z]+$/.test(text)) return `'${text}': fractions are not allowed; use a smaller unit (e.g. '1500ms' for 1.5s)`;
  if (/^(\d+[a-z]+){2,}$/.test(text)) return `'${text}': composite durations are not allowed; use one unit (e.g. '90s' for 1m30s)`;
  if (!allowZero && DURATION.test(text)) {
    return /^0+[a-z]+$/.test(text) ? `'${text}': must not be zero` : `'${text}': no leading zeros allowed`;
  }
  return `'${text}': ${expected}`;
}
