// Envoy's own xDS protos, from the maintained @grpc/grpc-js-xds package (../envoy/api-protos.ts).
// No message layout is written here: the ADS and ECDS services, DiscoveryRequest/Response and the
// resources we serve (TypedExtensionConfig → envoy.extensions.filters.http.wasm.v3.Wasm) all come
// from these files.
//
// `google.protobuf.Any` fields are given as `{ '@type': 'type.googleapis.com/<message>', …fields }`
// (the form Envoy's YAML uses): protobufjs, under proto-loader, packs them with the named message of
// the same loaded root, so every message we nest must be in PROTO_FILES.
import * as grpc from '@grpc/grpc-js';
import { loadEnvoyApi, serviceIn } from '../envoy/api-protos.ts';

export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/extension/v3/config_discovery.proto',
  'envoy/config/core/v3/extension.proto',
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
];

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const ECDS_SERVICE = 'envoy.service.extension.v3.ExtensionConfigDiscoveryService';
export const TYPED_EXTENSION_CONFIG_TYPE = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';

const cached = new Map<boolean, grpc.GrpcObject>();

/** `unpackAny`: decoded Any fields come back as `{ '@type', …fields }` (clients that read resources). */
export function loadXdsPackage(unpackAny = false): grpc.GrpcObject {
  let loaded = cached.get(unpackAny);
  if (loaded === undefined) cached.set(unpackAny, (loaded = grpc.loadPackageDefinition(loadEnvoyApi(PROTO_FILES, { json: unpackAny }))));
  return loaded;
}

/** A service's definition (for grpc.Server#addService) or client constructor (tests, load clients). */
export function xdsService(name: typeof ADS_SERVICE | typeof ECDS_SERVICE, unpackAny = false): grpc.ServiceClientConstructor {
  return serviceIn(loadXdsPackage(unpackAny), name);
}

// ---- the wire shapes (proto-loader objects with the options above; absent = default) ------------

export interface WireNode {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_version_type?: string;
  metadata?: unknown;
}

export interface WireStatus {
  code?: number;
  message?: string;
}

export interface WireDiscoveryRequest {
  version_info?: string;
  node?: WireNode;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: WireStatus;
}

/** An Any in the packed form protobufjs accepts: the message's fields beside its type URL. */
export type AnyObject = { '@type': string } & Record<string, unknown>;

export interface WireDiscoveryResponse {
  version_info: string;
  resources: AnyObject[];
  type_url: string;
  nonce: string;
}
