// Every limit of the filter configuration (lengths, counts, ranges), stated once. The translator
// checks its input against these (src/spec, the CLI's flags), validate() holds the IR to them
// (src/ir/validate.ts), and test/ir/limits.test.ts holds the two other sides to them:
// schema/filter-config.v1.schema.json (every bound in it is one of these) and the filter's decoder in
// assembly/config (build/sergo.wasm accepts each bound and refuses one step beyond it).

/** The filter holds counts and durations (ms) as i32. */
export const INT32_MAX = 2_147_483_647;

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface Length {
  readonly minLength?: number;
  readonly maxLength: number;
}

export interface Count {
  readonly minItems?: number;
  readonly maxItems: number;
}

/** Durations in ms, as the filter holds them. */
const DURATION_MS = { min: 1, max: INT32_MAX } as const satisfies Range;

export const LIMITS = {
  rules: { maxItems: 100_000 },
  ruleId: { minLength: 1, maxLength: 2048 },
  resource: { minLength: 1, maxLength: 1024 },

  threshold: { min: 0, max: INT32_MAX },
  windowMs: DURATION_MS,
  /** Global only: hits reserved per call to the rate-limit service. */
  batch: { min: 1, max: 1_000_000 },
  intervalMs: { min: 0, max: INT32_MAX },
  queueTimeoutMs: DURATION_MS,
  maxConcurrency: { min: 0, max: INT32_MAX },
  triggerRatio: { min: 0, max: 1 },
  statDurationMs: DURATION_MS,
  recoveryTimeoutMs: DURATION_MS,
  minRequestAmount: { min: 1, max: INT32_MAX },
  maxAllowedRtMs: { min: 0, max: INT32_MAX },
  errorStatusRanges: { minItems: 1, maxItems: 64 },
  errorStatusCode: { min: 100, max: 599 },

  fallbackStatus: { min: 200, max: 599 },
  /** Global RateLimit: the status of a refusal caused by a rate-limit service error. */
  statusOnError: { min: 200, max: 599 },
  fallbackBody: { maxLength: 65_536 },
  fallbackHeaders: { maxItems: 64 },
  headerName: { minLength: 1, maxLength: 256 },
  headerValue: { maxLength: 8192 },
  grpcStatus: { min: 0, max: 16 },

  /** The rate-limit service's cluster, authority, path and domain. */
  serviceText: { minLength: 1, maxLength: 256 },
  serviceTimeoutMs: { min: 1, max: 60_000 },

  maxQueuedPerVm: { min: 0, max: 1_000_000 },
  casRetries: { min: 1, max: 1000 },

  /** Traffic lanes (docs/traffic.md): lanes one proxy knows, and the parts of a colouring rule. */
  lanes: { minItems: 1, maxItems: 64 },
  /** Colouring rules of one proxy (one per lane whose entry is its app). */
  laneRules: { maxItems: 64 },
  laneName: { minLength: 1, maxLength: 63 },
  /** The header and baggage key that carry lanes. */
  laneKey: { minLength: 1, maxLength: 64 },
  /** Blocks of conditions of one lane (any colours). */
  laneMatches: { minItems: 1, maxItems: 32 },
  /** Header or query conditions of one block. */
  laneConditions: { maxItems: 32 },
  /** A compared value (exact or prefix). */
  laneMatchValue: { maxLength: 1024 },
  laneQueryName: { minLength: 1, maxLength: 1024 },
} as const satisfies Record<string, Range | Length | Count>;

/** The longest duration the filter can hold, in ms (about 24.8 days). */
export const MAX_DURATION_MS = DURATION_MS.max;

/** Printable ASCII without spaces: rule ids, resources and the rate-limit service's names. */
export const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export function inRange(value: number, range: Range): boolean {
  return value >= range.min && value <= range.max;
}

export function isIntegerIn(value: number, range: Range): boolean {
  return Number.isInteger(value) && inRange(value, range);
}

/** What the filter uses for an option the configuration does not give (docs/filter-config.md). */
export const OPTION_DEFAULTS = { maxQueuedPerVm: 1000, casRetries: 16, onCasExhausted: 'block' } as const;
