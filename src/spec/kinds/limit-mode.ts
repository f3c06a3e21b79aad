// `limitMode` of RateLimitStrategy and ConcurrencyLimitStrategy. Local limits each proxy on its own.
// Global is a budget for the whole application: RateLimitStrategy enforces it through a rate-limit
// service (rate-limit-strategy.ts); a ConcurrencyLimitStrategy cannot, and is refused rather than
// enforced per proxy (which would silently multiply the limit by the number of proxies).
// GlobalToLocal (RateLimitStrategy only) is the budget for the whole application divided by the
// number of running instances and enforced locally; only `sergo xds` knows that number (docs/xds.md).
import type { Cursor } from '../cursor.ts';
import { readEnum } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

export const LIMIT_MODES = ['Local', 'Global', 'GlobalToLocal'] as const;
export type LimitMode = (typeof LIMIT_MODES)[number];

export const GLOBAL_CONCURRENCY_MESSAGE =
  'limitMode Global is not supported for ConcurrencyLimitStrategy: a cluster-wide concurrency limit needs a distributed semaphore ' +
  '(taken and given back by every request across all proxies), which sergo-wasm does not provide. ' +
  'Use limitMode Local to limit each proxy instance on its own (Global is never enforced locally in its place)';

export function readLimitMode(c: Cursor, r: Reporter): LimitMode | undefined {
  return readEnum(c, r, LIMIT_MODES);
}

/** ConcurrencyLimitStrategy: true when the mode is Local; false (reported) otherwise. */
export function readLocalLimitMode(c: Cursor, r: Reporter): boolean {
  const mode = readLimitMode(c, r);
  if (mode === 'Global') r.error(c, GLOBAL_CONCURRENCY_MESSAGE);
  if (mode === 'GlobalToLocal') r.error(c, 'limitMode GlobalToLocal is supported for RateLimitStrategy only; use limitMode Local');
  return mode === 'Local';
}
