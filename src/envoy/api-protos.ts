// Envoy's own API protos, as the maintained @grpc/grpc-js-xds package ships them (deps/envoy-api and
// the trees it imports), loaded at run time with protobufjs + @grpc/proto-loader. src/xds (ADS, ECDS)
// and src/rls (the rate-limit service) both load theirs here; no message layout is written in sergo
// except the few fields a newer Envoy has and the package's snapshot lacks (see `amend`).
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const DEPS = join(dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')), 'deps');
export const ENVOY_API_INCLUDE_DIRS = ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate'].map((d) => join(DEPS, d));

/** snake_case field names as in the .proto, enum names, plain numbers, absent = default. */
export const ENVOY_API_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: false,
  oneofs: true,
};

export interface EnvoyApiLoad {
  /** Decoded Any fields come back as `{ '@type', …fields }` (clients that read resources). */
  json?: boolean;
  /** Changes to the loaded definitions before they are frozen into a package definition. */
  amend?: (root: protobuf.Root) => void;
}

/** The package definition of `files` (paths under envoy-api/, e.g. envoy/service/…/rls.proto). */
export function loadEnvoyApi(files: string[], load: EnvoyApiLoad = {}): protoLoader.PackageDefinition {
  const options = { ...ENVOY_API_LOADER_OPTIONS, json: load.json ?? false };
  if (load.amend === undefined) return protoLoader.loadSync(files, { ...options, includeDirs: ENVOY_API_INCLUDE_DIRS });
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : inIncludeDirs(target));
  root.loadSync(files, { keepCase: true });
  load.amend(root);
  return protoLoader.fromJSON(root.toJSON(), options);
}

function inIncludeDirs(target: string): string {
  for (const dir of ENVOY_API_INCLUDE_DIRS) {
    try {
      accessSync(join(dir, target), constants.R_OK);
      return join(dir, target);
    } catch {
      // not in this one
    }
  }
  return target; // google/protobuf/*: protobufjs has its own copies; anything else fails to open, by name
}

/** A service's client constructor in a loaded package (its `.service` is what grpc.Server#addService takes). */
export function serviceIn(loaded: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  let node: unknown = loaded;
  for (const part of name.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function') throw new Error(`${name} is not in the loaded protos`);
  return node as grpc.ServiceClientConstructor;
}
