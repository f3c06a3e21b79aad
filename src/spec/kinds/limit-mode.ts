// `limitMode` of RateLimitStrategy and ConcurrencyLimitStrategy. Only Local is enforced: a Global
// limit is a budget for the whole cluster and enforcing it per proxy would silently multiply it.
import type { Cursor } from '../cursor.ts';
import { readEnum } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

export const GLOBAL_LIMIT_MESSAGE =
  'limitMode Global is a cluster-wide limit, which needs a rate-limit service; sergo-wasm does not provide one yet. ' +
  'Use limitMode Local to limit each proxy instance on its own (Global is never enforced locally in its place)';

/** True when the mode is Local; false (reported) otherwise. */
export function readLocalLimitMode(c: Cursor, r: Reporter): boolean {
  const mode = readEnum(c, r, ['Local', 'Global'] as const);
  if (mode === 'Global') r.error(c, GLOBAL_LIMIT_MESSAGE);
  return mode === 'Local';
}
