// CircuitBreakerStrategy: Sentinel's breaker. A call is bad when slower than
// `slowConditions.maxAllowedRt` (SlowRequestRatio) or when it fails (ErrorRequestRatio, see
// error-status-codes.ts). Conditions of the other mode are ignored with a warning.
import { LIMITS } from '../../ir/limits.ts';
import type { CircuitBreaker } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readDuration, readEnum, readInteger, readMap, readPercent } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { DEFAULT_ERROR_STATUS, readErrorStatusCodes } from './error-status-codes.ts';

const KNOWN_FIELDS = [
  'strategy',
  'triggerRatio',
  'statDuration',
  'recoveryTimeout',
  'minRequestAmount',
  'slowConditions',
  'errorConditions',
];
const SLOW_FIELDS = ['maxAllowedRt'];
/** `representation` (CRD) and `errorType` (spec text) were never given a meaning. */
const UNDEFINED_ERROR_FIELDS = ['representation', 'errorType'];
const ERROR_FIELDS = ['statusCodes', ...UNDEFINED_ERROR_FIELDS];

export function readCircuitBreakerStrategy(spec: Cursor, r: Reporter): CircuitBreaker | undefined {
  const before = r.errorCount;
  const mode = readEnum(spec.get('strategy'), r, ['SlowRequestRatio', 'ErrorRequestRatio'] as const);
  const triggerRatio = readPercent(spec.get('triggerRatio'), r);
  const statDurationMs = readDuration(spec.get('statDuration'), r);
  const recoveryTimeoutMs = readDuration(spec.get('recoveryTimeout'), r);
  const minRequestAmount = readInteger(spec.get('minRequestAmount'), r, LIMITS.minRequestAmount);
  const slow = spec.get('slowConditions');
  const errors = spec.get('errorConditions');
  r.warnUnknownFields(spec, KNOWN_FIELDS);

  let maxAllowedRtMs: number | undefined;
  let errorStatus = DEFAULT_ERROR_STATUS;
  if (mode === 'SlowRequestRatio') {
    const conditions = readMap(slow, r);
    if (conditions !== undefined) {
      maxAllowedRtMs = readDuration(conditions.get('maxAllowedRt'), r);
      r.warnUnknownFields(conditions, SLOW_FIELDS);
    }
    if (errors.present) r.warning(errors, 'ignored: strategy is SlowRequestRatio');
  } else if (mode === 'ErrorRequestRatio') {
    const conditions = readMap(errors, r, { optional: true });
    if (conditions !== undefined) {
      const codes = conditions.get('statusCodes');
      if (codes.present) errorStatus = readErrorStatusCodes(codes, r) ?? errorStatus;
      for (const name of UNDEFINED_ERROR_FIELDS) {
        const field = conditions.get(name);
        if (field.present) r.warning(field, 'has no defined meaning in OpenSergo and is ignored; list statusCodes instead');
      }
      r.warnUnknownFields(conditions, ERROR_FIELDS);
    }
    if (slow.present) r.warning(slow, 'ignored: strategy is ErrorRequestRatio');
  }

  if (
    r.errorCount > before ||
    mode === undefined ||
    triggerRatio === undefined ||
    statDurationMs === undefined ||
    recoveryTimeoutMs === undefined ||
    minRequestAmount === undefined
  ) {
    return undefined;
  }
  const common = { kind: 'CircuitBreaker', triggerRatio, statDurationMs, recoveryTimeoutMs, minRequestAmount } as const;
  if (mode === 'SlowRequestRatio') {
    return maxAllowedRtMs === undefined ? undefined : { ...common, mode, maxAllowedRtMs };
  }
  return { ...common, mode, errorStatus };
}
