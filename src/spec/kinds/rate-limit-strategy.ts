// RateLimitStrategy: at most `threshold` requests per window. The window is `statDurationSeconds`
// (current CRD) or the legacy `statDuration: "1s"` string (older spec text, still in the English doc).
//
// `limitMode: Local` counts per proxy. `limitMode: Global` counts for the whole application in a
// rate-limit service (Envoy's reference service in its HTTP/JSON form, or `sergo rls`), which the
// filter asks for every request (docs/filter-config.md). Translator extensions, Global only:
//   * `failOpen: true|false` (default false): what happens when the service fails or does not answer
//     within the timeout. Blocking is the safe default: a Global limit usually protects something
//     shared, and an outage of the service must not silently turn the limit off. Either way every
//     failure is counted (sergo.rls_errors, sergo.rls_failed_open), so fail-open is never silent.
//   * `batch: N` (default 1): hits reserved per call; the N − 1 the calling request does not use are
//     spent locally by later requests, so the service sees about one call per N requests. The service
//     never grants more than `threshold` per window; what it costs (hits reserved but never spent,
//     the overshoot at a window boundary) is stated once, in docs/translator.md ("batch: N"). N above
//     the threshold would refuse every call, so it is an error.
import { LIMITS } from '../../ir/limits.ts';
import type { GlobalLimit, RateLimit } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { MAX_MS } from '../duration.ts';
import { readBoolean, readDuration, readEnum, readInteger } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readLimitMode } from './limit-mode.ts';

const KNOWN_FIELDS = ['metricType', 'limitMode', 'threshold', 'statDurationSeconds', 'statDuration', 'failOpen', 'batch'];

/** The windows of the rate-limit API's units (SECOND, MINUTE, HOUR, DAY), all Envoy's reference service knows. */
export const REFERENCE_SERVICE_WINDOWS_MS: readonly number[] = [1000, 60_000, 3_600_000, 86_400_000];

export function readRateLimitStrategy(spec: Cursor, r: Reporter): RateLimit | undefined {
  const before = r.errorCount;
  readEnum(spec.get('metricType'), r, ['RequestAmount'] as const);
  const mode = readLimitMode(spec.get('limitMode'), r);
  const threshold = readInteger(spec.get('threshold'), r, LIMITS.threshold);
  const window = readWindow(spec, r);
  const global = readGlobalFields(spec, r, mode, threshold);
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  if (mode === 'Global' && window !== undefined) warnReferenceServiceWindow(window.at, window.ms, r);
  if (r.errorCount > before || mode === undefined || threshold === undefined || window === undefined) return undefined;
  const limit: RateLimit = { kind: 'RateLimit', threshold, windowMs: window.ms };
  if (mode === 'Global' && global !== undefined) limit.global = global;
  if (mode === 'GlobalToLocal') limit.globalToLocal = { pos: spec.get('limitMode').pos };
  return limit;
}

/** `failOpen` and `batch`: defaulted for Global, errors when given with Local. */
function readGlobalFields(spec: Cursor, r: Reporter, mode: string | undefined, threshold: number | undefined): GlobalLimit | undefined {
  const failOpenField = spec.get('failOpen');
  const batchField = spec.get('batch');
  const failOpen = readBoolean(failOpenField, r, { optional: true });
  const batch = readInteger(batchField, r, LIMITS.batch, { optional: true });
  if (mode !== 'Global') {
    for (const field of [failOpenField, batchField]) {
      if (field.present) {
        r.error(field, 'applies to limitMode Global only (it concerns the calls to the rate-limit service; a Local limit makes none)');
      }
    }
    return undefined;
  }
  if (batch !== undefined && batch > 1 && threshold !== undefined && batch > threshold) {
    r.error(
      batchField,
      `${batch} is more than the threshold ${threshold}: each call asks the rate-limit service for ${batch} hits at once, ` +
        'which it would refuse every time, so every request would be blocked; use a batch of at most the threshold',
    );
  }
  return { failOpen: failOpen ?? false, batch: batch ?? 1 };
}

/**
 * Envoy's reference rate-limit service (envoyproxy/ratelimit) knows only the API's units. For other
 * windows the filter sends the `sergo_window_ms` descriptor entry, which `sergo rls` reads and the
 * reference service takes as one more key part, counting the threshold per second instead.
 */
function warnReferenceServiceWindow(at: Cursor, windowMs: number, r: Reporter): void {
  if (REFERENCE_SERVICE_WINDOWS_MS.includes(windowMs)) return;
  r.warning(
    at,
    `a Global window of ${windowMs} ms works with sergo rls only (it reads the window from the sergo_window_ms descriptor entry): ` +
      "Envoy's reference rate-limit service knows only windows of 1 s, 1 min, 1 h and 1 d (statDurationSeconds 1, 60, 3600, 86400) " +
      'and would count this threshold per second',
  );
}

function readWindow(spec: Cursor, r: Reporter): { ms: number; at: Cursor } | undefined {
  const seconds = spec.get('statDurationSeconds');
  const legacy = spec.get('statDuration');
  if (seconds.present && legacy.present) {
    r.error(legacy, 'give either statDurationSeconds or the legacy statDuration, not both');
    return undefined;
  }
  if (legacy.present) {
    const ms = readDuration(legacy, r);
    return ms === undefined ? undefined : { ms, at: legacy };
  }
  if (!seconds.present) {
    r.error(seconds, 'is required (or the legacy statDuration, e.g. "1s")');
    return undefined;
  }
  const s = readInteger(seconds, r, { min: 1, max: Math.floor(MAX_MS / 1000) });
  return s === undefined ? undefined : { ms: s * 1000, at: seconds };
}
