// The HTTP/JSON form of the protocol (envoyproxy/ratelimit's `POST /json`): the body is a
// RateLimitRequest in proto3 JSON, the answer a RateLimitResponse in proto3 JSON.
//
// Decoding follows the proto3 JSON mapping: field names in lowerCamelCase or as in the .proto
// (`hitsAddend` or `hits_addend`), null = default, integers as numbers or decimal strings, enums as
// names or numbers, the UInt64Value wrapper as a bare number. Unknown fields are rejected (as the
// reference service's protojson decoder does), so a misspelt `hitsAddend` cannot silently count 1.
// Encoding follows protojson's output: lowerCamelCase names, enum names, Duration as "1.500s";
// `limitRemaining` is always written (also when 0).
import {
  InvalidRequestError,
  UNIT_NAMES,
  type Descriptor,
  type Entry,
  type LimitOverride,
  type RateLimitRequest,
  type RateLimitResponse,
  type UnitName,
} from './model.ts';

type Json = unknown;

/** Parses a request body; throws InvalidRequestError. */
export function decodeJsonRequest(body: string): RateLimitRequest {
  let value: Json;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new InvalidRequestError(`body is not JSON: ${(err as Error).message}`);
  }
  const o = object(value, 'request');
  const fields = pick(o, 'request', ['domain', 'descriptors', 'hits_addend']);
  return {
    domain: string(fields.domain, 'domain'),
    descriptors: list(fields.descriptors, 'descriptors').map((d, i) => descriptor(d, `descriptors[${i}]`)),
    hitsAddend: uint(fields.hits_addend, 'hits_addend', 32) ?? 0,
  };
}

function descriptor(value: Json, where: string): Descriptor {
  const fields = pick(object(value, where), where, ['entries', 'limit', 'hits_addend']);
  const result: Descriptor = {
    entries: list(fields.entries, `${where}.entries`).map((e, i) => entry(e, `${where}.entries[${i}]`)),
  };
  const limit = fields.limit === undefined || fields.limit === null ? undefined : override(fields.limit, `${where}.limit`);
  if (limit !== undefined) result.limit = limit;
  const hits = uint(fields.hits_addend, `${where}.hits_addend`, 64);
  if (hits !== undefined) result.hitsAddend = hits;
  return result;
}

function entry(value: Json, where: string): Entry {
  const fields = pick(object(value, where), where, ['key', 'value']);
  return { key: string(fields.key, `${where}.key`), value: string(fields.value, `${where}.value`) };
}

function override(value: Json, where: string): LimitOverride {
  const fields = pick(object(value, where), where, ['requests_per_unit', 'unit']);
  return {
    requestsPerUnit: uint(fields.requests_per_unit, `${where}.requests_per_unit`, 32) ?? 0,
    unit: unit(fields.unit, `${where}.unit`),
  };
}

/** Fields of an object by proto name, accepting the proto name or its lowerCamelCase JSON name. */
function pick(o: Record<string, Json>, where: string, names: string[]): Record<string, Json> {
  const byJsonName = new Map<string, string>();
  for (const name of names) {
    byJsonName.set(name, name);
    byJsonName.set(name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), name);
  }
  const out: Record<string, Json> = {};
  for (const [key, v] of Object.entries(o)) {
    const name = byJsonName.get(key);
    if (name === undefined) throw new InvalidRequestError(`${where}: unknown field "${key}"`);
    if (name in out) throw new InvalidRequestError(`${where}: field "${name}" given twice`);
    out[name] = v;
  }
  return out;
}

function object(value: Json, where: string): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequestError(`${where} must be an object`);
  }
  return value as Record<string, Json>;
}

function list(value: Json, where: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidRequestError(`${where} must be an array`);
  return value;
}

function string(value: Json, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidRequestError(`${where} must be a string`);
  return value;
}

function uint(value: Json, where: string, bits: 32 | 64): number | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[0-9]+$/.test(value)) n = Number(value);
  else throw new InvalidRequestError(`${where} must be a non-negative integer`);
  const max = bits === 32 ? 4_294_967_295 : Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidRequestError(`${where} must be a uint${bits}`);
  return n;
}

function unit(value: Json, where: string): UnitName {
  if (value === undefined || value === null) return 'UNKNOWN';
  if (typeof value === 'string' && (UNIT_NAMES as readonly string[]).includes(value)) return value as UnitName;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < UNIT_NAMES.length) {
    return UNIT_NAMES[value]!;
  }
  throw new InvalidRequestError(`${where} must be one of ${UNIT_NAMES.join(', ')}`);
}

/** The JSON body of a response (protojson style). */
export function encodeJsonResponse(response: RateLimitResponse): string {
  return JSON.stringify({
    overallCode: response.overallCode,
    statuses: response.statuses.map((s) => {
      const status: Record<string, unknown> = { code: s.code };
      if (s.currentLimit !== undefined) {
        status.currentLimit = {
          name: s.currentLimit.name,
          requestsPerUnit: s.currentLimit.requestsPerUnit,
          unit: s.currentLimit.unit,
        };
      }
      status.limitRemaining = s.limitRemaining;
      if (s.durationUntilResetMs !== undefined) status.durationUntilReset = durationJson(s.durationUntilResetMs);
      return status;
    }),
  });
}

/** google.protobuf.Duration in JSON: seconds with 0, 3 (or more) fractional digits and an "s". */
export function durationJson(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = ms - whole * 1000;
  return frac === 0 ? `${whole}s` : `${whole}.${String(frac).padStart(3, '0')}s`;
}
