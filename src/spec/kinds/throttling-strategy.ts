// ThrottlingStrategy: pacing. Requests are spaced `minIntervalOfRequests` apart (zero allowed, as in
// the CRD) and wait at most `queueTimeout` for their slot.
import type { Throttling } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readDuration } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

const KNOWN_FIELDS = ['minIntervalOfRequests', 'queueTimeout'];

export function readThrottlingStrategy(spec: Cursor, r: Reporter): Throttling | undefined {
  const before = r.errorCount;
  const intervalMs = readDuration(spec.get('minIntervalOfRequests'), r, { allowZero: true });
  const queueTimeoutMs = readDuration(spec.get('queueTimeout'), r);
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  if (r.errorCount > before || intervalMs === undefined || queueTimeoutMs === undefined) return undefined;
  return { kind: 'Throttling', intervalMs, queueTimeoutMs };
}
