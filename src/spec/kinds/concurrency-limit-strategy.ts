// ConcurrencyLimitStrategy: at most `maxConcurrency` requests in flight.
import { LIMITS } from '../../ir/limits.ts';
import type { ConcurrencyLimit } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readInteger } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readLocalLimitMode } from './limit-mode.ts';

const KNOWN_FIELDS = ['maxConcurrency', 'limitMode'];

export function readConcurrencyLimitStrategy(spec: Cursor, r: Reporter): ConcurrencyLimit | undefined {
  const before = r.errorCount;
  const maxConcurrency = readInteger(spec.get('maxConcurrency'), r, LIMITS.maxConcurrency);
  readLocalLimitMode(spec.get('limitMode'), r);
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  if (r.errorCount > before || maxConcurrency === undefined) return undefined;
  return { kind: 'ConcurrencyLimit', maxConcurrency };
}
