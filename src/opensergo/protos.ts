// The OpenSergo protos (src/opensergo/protos/, written for sergo-wasm from the protocol's facts),
// loaded at run time: the transport service with @grpc/proto-loader (client, and the scripted peer
// of the tests), the fault-tolerance payloads with protobufjs (each Any of a push is decoded on its
// own, so one malformed payload is a refused push, not a broken stream).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../package-root.ts';

// From the package root: a path relative to this module's URL would break in the bundle (build/cli/).
const PROTO_DIR = join(PACKAGE_ROOT, 'src', 'opensergo', 'protos', 'opensergo');

export const TRANSPORT_SERVICE = 'io.opensergo.proto.transport.v1.OpenSergoUniversalTransportService';
export const SUBSCRIBE_METHOD = `/${TRANSPORT_SERVICE}/SubscribeConfig`;
export const PAYLOAD_PACKAGE = 'io.opensergo.proto.fault_tolerance.v1';
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

let service: grpc.ServiceClientConstructor | undefined;

/** The service's client constructor; its `.service` is the definition a server adds. */
export function transportService(): grpc.ServiceClientConstructor {
  if (service !== undefined) return service;
  const definition = protoLoader.loadSync('transport.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: Number,
    defaults: true,
    oneofs: true,
  });
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of TRANSPORT_SERVICE.split('.')) node = (node as Record<string, unknown>)[part];
  service = node as grpc.ServiceClientConstructor;
  return service;
}

let payloads: protobuf.Root | undefined;

/** A fault-tolerance message type by its short name (`RateLimitStrategy`, …). */
export function payloadType(name: string): protobuf.Type {
  if (payloads === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
    payloads = root.loadSync('fault_tolerance.proto', { keepCase: true });
  }
  return payloads.lookupType(`${PAYLOAD_PACKAGE}.${name}`);
}

/**
 * Decodes a payload as a plain object (numbers, enum numbers, defaults filled). Throws on bytes that
 * are not that message. The plain Reader, not the Buffer one that Reader.create picks for a Buffer:
 * that one cuts a string that claims more bytes than there are instead of refusing it.
 */
export function decodePayload(name: string, bytes: Uint8Array): Record<string, unknown> {
  const type = payloadType(name);
  const message = type.decode(new protobuf.Reader(new Uint8Array(bytes)));
  return type.toObject(message, { longs: Number, enums: Number, defaults: true });
}

/** Encodes a payload (the tests' scripted control plane); `check: false` lets a value outside an enum through. */
export function encodePayload(name: string, fields: Record<string, unknown>, check = true): { type_url: string; value: Buffer } {
  const type = payloadType(name);
  const problem = check ? type.verify(fields) : null;
  if (problem !== null) throw new Error(`${name}: ${problem}`);
  return { type_url: `${TYPE_URL_PREFIX}${PAYLOAD_PACKAGE}.${name}`, value: Buffer.from(type.encode(type.fromObject(fields)).finish()) };
}

// ---- the wire shapes (proto-loader objects with the options above) ----

export interface WireStatus {
  code: number;
  message: string;
  details?: WireAny[];
}

export interface WireAny {
  type_url: string;
  value: Buffer;
}

export interface WireSubscribeRequest {
  target?: { namespace: string; app: string; labels?: Array<{ key: string; value: string }>; kinds: string[] } | null;
  op_type?: number;
  response_ack?: string;
  attachments?: WireAny[];
  status?: WireStatus | null;
  identifier?: string;
  request_id?: string;
}

export interface WireSubscribeResponse {
  status: WireStatus | null;
  ack: string;
  namespace: string;
  app: string;
  kind: string;
  dataWithVersion: { data: WireAny[]; version: number } | null;
  control_plane: { identifier: string } | null;
  response_id: string;
}
