// RateLimitStrategy: at most `threshold` requests per window. The window is `statDurationSeconds`
// (current CRD) or the legacy `statDuration: "1s"` string (older spec text, still in the English doc).
import type { RateLimit } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { MAX_MS } from '../duration.ts';
import { readDuration, readEnum, readInteger } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readLocalLimitMode } from './limit-mode.ts';
import { INT32_MAX } from './limits.ts';

const KNOWN_FIELDS = ['metricType', 'limitMode', 'threshold', 'statDurationSeconds', 'statDuration'];

export function readRateLimitStrategy(spec: Cursor, r: Reporter): RateLimit | undefined {
  const before = r.errorCount;
  readEnum(spec.get('metricType'), r, ['RequestAmount'] as const);
  readLocalLimitMode(spec.get('limitMode'), r);
  const threshold = readInteger(spec.get('threshold'), r, { min: 0, max: INT32_MAX });
  const windowMs = readWindow(spec, r);
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  if (r.errorCount > before || threshold === undefined || windowMs === undefined) return undefined;
  return { kind: 'RateLimit', threshold, windowMs };
}

function readWindow(spec: Cursor, r: Reporter): number | undefined {
  const seconds = spec.get('statDurationSeconds');
  const legacy = spec.get('statDuration');
  if (seconds.present && legacy.present) {
    r.error(legacy, 'give either statDurationSeconds or the legacy statDuration, not both');
    return undefined;
  }
  if (legacy.present) return readDuration(legacy, r);
  if (!seconds.present) {
    r.error(seconds, 'is required (or the legacy statDuration, e.g. "1s")');
    return undefined;
  }
  const s = readInteger(seconds, r, { min: 1, max: Math.floor(MAX_MS / 1000) });
  return s === undefined ? undefined : s * 1000;
}
