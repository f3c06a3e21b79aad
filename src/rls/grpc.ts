// The gRPC form: envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, from the .proto files
// under ./proto (loaded at run time with @grpc/proto-loader; snake_case field names kept).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PACKAGE_ROOT } from '../package-root.ts';
import { InvalidRequestError, UNIT_NAMES, type Descriptor, type RateLimitRequest, type RateLimitResponse, type UnitName } from './model.ts';

export const PROTO_DIR = join(PACKAGE_ROOT, 'src', 'rls', 'proto');
export const RLS_PROTO = 'envoy/service/ratelimit/v3/rls.proto';
export const SERVICE_NAME = 'envoy.service.ratelimit.v3.RateLimitService';

export const LOADER_OPTIONS: protoLoader.Options = {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: false,
  oneofs: true,
};

let cached: grpc.GrpcObject | undefined;

/** The loaded package tree (envoy.service.ratelimit.v3.RateLimitService is a client constructor). */
export function loadRlsPackage(): grpc.GrpcObject {
  cached ??= grpc.loadPackageDefinition(protoLoader.loadSync(RLS_PROTO, LOADER_OPTIONS));
  return cached;
}

export function rateLimitServiceDefinition(): grpc.ServiceDefinition {
  const ctor = lookup(loadRlsPackage(), SERVICE_NAME) as grpc.ServiceClientConstructor;
  return ctor.service;
}

/** A client constructor for the service (tests, the embedded sidecar's own checks). */
export function rateLimitServiceClient(): grpc.ServiceClientConstructor {
  return lookup(loadRlsPackage(), SERVICE_NAME) as grpc.ServiceClientConstructor;
}

function lookup(root: grpc.GrpcObject, name: string): unknown {
  let node: unknown = root;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  return node;
}

// Shapes produced by proto-loader with the options above (fields at their default are absent).
interface WireEntry {
  key?: string;
  value?: string;
}
interface WireDescriptor {
  entries?: WireEntry[];
  limit?: { requests_per_unit?: number; unit?: string | number };
  hits_addend?: { value?: number };
}
export interface WireRequest {
  domain?: string;
  descriptors?: WireDescriptor[];
  hits_addend?: number;
}
export interface WireResponse {
  overall_code: string;
  statuses: {
    code: string;
    current_limit?: { name: string; requests_per_unit: number; unit: string };
    limit_remaining: number;
    duration_until_reset?: { seconds: number; nanos: number };
  }[];
}

export function fromWireRequest(request: WireRequest): RateLimitRequest {
  return {
    domain: request.domain ?? '',
    descriptors: (request.descriptors ?? []).map((d, i) => {
      const descriptor: Descriptor = {
        entries: (d.entries ?? []).map((e) => ({ key: e.key ?? '', value: e.value ?? '' })),
      };
      if (d.limit !== undefined && d.limit !== null) {
        descriptor.limit = { requestsPerUnit: d.limit.requests_per_unit ?? 0, unit: unitName(d.limit.unit, i) };
      }
      if (d.hits_addend !== undefined && d.hits_addend !== null) descriptor.hitsAddend = Number(d.hits_addend.value ?? 0);
      return descriptor;
    }),
    hitsAddend: request.hits_addend ?? 0,
  };
}

function unitName(unit: string | number | undefined, index: number): UnitName {
  if (unit === undefined) return 'UNKNOWN';
  if (typeof unit === 'string' && (UNIT_NAMES as readonly string[]).includes(unit)) return unit as UnitName;
  throw new InvalidRequestError(`descriptors[${index}].limit.unit: unknown unit ${String(unit)}`);
}

export function toWireResponse(response: RateLimitResponse): WireResponse {
  return {
    overall_code: response.overallCode,
    statuses: response.statuses.map((s) => ({
      code: s.code,
      ...(s.currentLimit !== undefined
        ? {
            current_limit: {
              name: s.currentLimit.name,
              requests_per_unit: s.currentLimit.requestsPerUnit,
              unit: s.currentLimit.unit,
            },
          }
        : {}),
      limit_remaining: s.limitRemaining,
      ...(s.durationUntilResetMs !== undefined
        ? {
            duration_until_reset: {
              seconds: Math.floor(s.durationUntilResetMs / 1000),
              nanos: (s.durationUntilResetMs % 1000) * 1_000_000,
            },
          }
        : {}),
    })),
  };
}
