// The gRPC form: envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, from Envoy's own API
// protos as @grpc/grpc-js-xds ships them (../envoy/api-protos.ts; snake_case field names kept).
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { loadEnvoyApi, serviceIn } from '../envoy/api-protos.ts';
import { InvalidRequestError, UNIT_NAMES, type Descriptor, type RateLimitRequest, type RateLimitResponse, type UnitName } from './model.ts';

export const RLS_PROTO = 'envoy/service/ratelimit/v3/rls.proto';
export const SERVICE_NAME = 'envoy.service.ratelimit.v3.RateLimitService';

/**
 * RateLimitDescriptor.hits_addend (field 3, google.protobuf.UInt64Value) is in Envoy's current API
 * but not in the older API snapshot of @grpc/grpc-js-xds 1.14.1; without it a descriptor's own
 * hits_addend would be skipped as unknown. Added only when the package lacks it, so a newer
 * package's own definition wins.
 */
function addDescriptorHitsAddend(root: protobuf.Root): void {
  const descriptor = root.lookupType('envoy.extensions.common.ratelimit.v3.RateLimitDescriptor');
  if (descriptor.fields['hits_addend'] !== undefined) return;
  root.loadSync('google/protobuf/wrappers.proto');
  descriptor.add(new protobuf.Field('hits_addend', 3, 'google.protobuf.UInt64Value'));
}

let definition: protoLoader.PackageDefinition | undefined;
let cached: grpc.GrpcObject | undefined;

/** The package definition of rls.proto and what it imports (tests read field numbers from it). */
export function rlsPackageDefinition(): protoLoader.PackageDefinition {
  definition ??= loadEnvoyApi([RLS_PROTO], { amend: addDescriptorHitsAddend });
  return definition;
}

/** The loaded package tree (envoy.service.ratelimit.v3.RateLimitService is a client constructor). */
export function loadRlsPackage(): grpc.GrpcObject {
  cached ??= grpc.loadPackageDefinition(rlsPackageDefinition());
  return cached;
}

export function rateLimitServiceDefinition(): grpc.ServiceDefinition {
  return rateLimitServiceClient().service;
}

/** A client constructor for the service (tests, the embedded sidecar's own checks). */
export function rateLimitServiceClient(): grpc.ServiceClientConstructor {
  return serviceIn(loadRlsPackage(), SERVICE_NAME);
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
