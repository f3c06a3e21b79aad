// The rate-limit service's own model of a ShouldRateLimit call, shared by the gRPC and the HTTP/JSON
// transports (each decodes its wire form into these types), and the planning step that turns each
// descriptor into a budget: a Redis key, a limit, a window and the hits to add.
//
// Extensions to the Envoy protocol (docs/rls.md):
//   - entry {key: "sergo_window_ms", value: "<ms>"}: the window of the descriptor's limit, any length
//     (the protocol's units stop at SECOND…YEAR); requests_per_unit is then "per window" and the unit
//     is ignored. The entry is not part of the budget's identity beyond the window length.
//   - entry {key: "sergo_rule", value: "<rule id>"}: the budget's identity (the filter sends the rule
//     id); it is an ordinary entry for the key and names the limit in responses.
import { createHash } from 'node:crypto';

export const UNIT_NAMES = ['UNKNOWN', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'MONTH', 'YEAR'] as const;
export type UnitName = (typeof UNIT_NAMES)[number];

const DAY_MS = 86_400_000;
/** Window length of each unit (MONTH = 30 days, YEAR = 365 days, as envoyproxy/ratelimit counts them). */
export const UNIT_MS: Record<Exclude<UnitName, 'UNKNOWN'>, number> = {
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: DAY_MS,
  MONTH: 30 * DAY_MS,
  YEAR: 365 * DAY_MS,
};

export const RULE_ENTRY = 'sergo_rule';
export const WINDOW_ENTRY = 'sergo_window_ms';
export const MAX_WINDOW_MS = UNIT_MS.YEAR;
/** Largest hits_addend accepted (Envoy's own cap on the addend it sends). */
export const MAX_HITS_ADDEND = 1_000_000_000;
export const MAX_UINT32 = 4_294_967_295;
/** Redis keys of the service all start with this. */
export const KEY_PREFIX = 'sergo:rls:';
/** Target number of buckets per window (see counter.ts); fixed so every replica computes the same keys. */
export const BUCKETS_PER_WINDOW = 20;

export interface Entry {
  key: string;
  value: string;
}

export interface LimitOverride {
  requestsPerUnit: number;
  unit: UnitName;
}

export interface Descriptor {
  entries: Entry[];
  limit?: LimitOverride;
  /** Descriptor-level hits_addend (replaces the request's when present, 0 included). */
  hitsAddend?: number;
}

export interface RateLimitRequest {
  domain: string;
  descriptors: Descriptor[];
  /** Request-level hits_addend; 0 means unset, i.e. 1. */
  hitsAddend: number;
}

export type Code = 'OK' | 'OVER_LIMIT';

export interface DescriptorStatus {
  code: Code;
  currentLimit?: { name: string; requestsPerUnit: number; unit: UnitName };
  limitRemaining: number;
  durationUntilResetMs?: number;
}

export interface RateLimitResponse {
  overallCode: Code;
  statuses: DescriptorStatus[];
}

/** The request is malformed (gRPC INVALID_ARGUMENT, HTTP 400). */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

/** One descriptor with a limit, ready for counting. */
export interface Budget {
  /** Redis key (a hash of bucket index → count). */
  key: string;
  /** Human-readable name, reported as current_limit.name. */
  name: string;
  limit: number;
  windowMs: number;
  bucketMs: number;
  /** Number of whole buckets covering the window; a decision sums buckets+1 of them. */
  buckets: number;
  hits: number;
  /** Echoed back in current_limit. */
  requestsPerUnit: number;
  unit: UnitName;
}

export interface PlanOptions {
  /** Domains served; '*' accepts any. */
  domains: readonly string[] | '*';
}

/** Validates the request and returns, per descriptor, its budget (undefined: no limit given → OK). */
export function planRequest(request: RateLimitRequest, options: PlanOptions): (Budget | undefined)[] {
  if (request.domain === '') throw new InvalidRequestError('domain must not be empty');
  if (options.domains !== '*' && !options.domains.includes(request.domain)) {
    throw new InvalidRequestError(
      `unknown domain "${request.domain}" (this service serves ${options.domains.map((d) => `"${d}"`).join(', ')})`,
    );
  }
  if (request.descriptors.length === 0) throw new InvalidRequestError('descriptors must not be empty');
  checkCount(request.hitsAddend, 'hits_addend', MAX_HITS_ADDEND);
  const requestHits = request.hitsAddend === 0 ? 1 : request.hitsAddend;
  return request.descriptors.map((descriptor, index) => planDescriptor(request.domain, descriptor, index, requestHits));
}

function planDescriptor(domain: string, descriptor: Descriptor, index: number, requestHits: number): Budget | undefined {
  const where = `descriptors[${index}]`;
  if (descriptor.entries.length === 0) throw new InvalidRequestError(`${where}.entries must not be empty`);
  let windowMs: number | undefined;
  let rule: string | undefined;
  const identity: Entry[] = [];
  descriptor.entries.forEach((entry, i) => {
    if (entry.key === '') throw new InvalidRequestError(`${where}.entries[${i}].key must not be empty`);
    if (entry.key === WINDOW_ENTRY) {
      if (windowMs !== undefined) throw new InvalidRequestError(`${where}: more than one ${WINDOW_ENTRY} entry`);
      windowMs = parseWindow(entry.value, `${where}.entries[${i}]`);
      return;
    }
    if (entry.key === RULE_ENTRY) {
      if (rule !== undefined) throw new InvalidRequestError(`${where}: more than one ${RULE_ENTRY} entry`);
      if (entry.value === '') throw new InvalidRequestError(`${where}.entries[${i}]: ${RULE_ENTRY} must not be empty`);
      rule = entry.value;
    }
    identity.push(entry);
  });
  if (identity.length === 0) throw new InvalidRequestError(`${where} has no entry besides ${WINDOW_ENTRY}`);
  if (descriptor.hitsAddend !== undefined) checkCount(descriptor.hitsAddend, `${where}.hits_addend`, MAX_HITS_ADDEND);
  const limit = descriptor.limit;
  if (limit === undefined) return undefined;
  checkCount(limit.requestsPerUnit, `${where}.limit.requests_per_unit`, MAX_UINT32);
  if (windowMs === undefined) {
    if (limit.unit === 'UNKNOWN') {
      throw new InvalidRequestError(`${where}.limit.unit is UNKNOWN and there is no ${WINDOW_ENTRY} entry`);
    }
    windowMs = UNIT_MS[limit.unit];
  }
  const { bucketMs, buckets } = bucketsFor(windowMs);
  const identityText = identity.map((e) => `${encodeURIComponent(e.key)}=${encodeURIComponent(e.value)}`).join('&');
  const identityPart =
    identityText.length <= 200 ? identityText : `sha256=${createHash('sha256').update(identityText).digest('hex')}`;
  return {
    key: `${KEY_PREFIX}${encodeURIComponent(domain)}:${windowMs}:${identityPart}`,
    name: `${rule ?? identity.map((e) => `${e.key}=${e.value}`).join(',')} per ${windowMs}ms`,
    limit: limit.requestsPerUnit,
    windowMs,
    bucketMs,
    buckets,
    hits: descriptor.hitsAddend ?? requestHits,
    requestsPerUnit: limit.requestsPerUnit,
    unit: limit.unit,
  };
}

/** Bucket length and count for a window: buckets × bucketMs ≥ windowMs, bucketMs ≤ windowMs / 20 when possible. */
export function bucketsFor(windowMs: number): { bucketMs: number; buckets: number } {
  const bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
  return { bucketMs, buckets: Math.ceil(windowMs / bucketMs) };
}

function parseWindow(value: string, where: string): number {
  if (!/^[1-9][0-9]{0,11}$/.test(value)) {
    throw new InvalidRequestError(`${where}: ${WINDOW_ENTRY} must be a positive integer (milliseconds), got "${value}"`);
  }
  const ms = Number(value);
  if (ms > MAX_WINDOW_MS) throw new InvalidRequestError(`${where}: ${WINDOW_ENTRY} must be at most ${MAX_WINDOW_MS}`);
  return ms;
}

function checkCount(value: number, what: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new InvalidRequestError(`${what} must be an integer between 0 and ${max}, got ${value}`);
  }
}
