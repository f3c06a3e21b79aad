// The local reply Envoy builds for proxy_send_local_response (and for a failed stream), from
// Envoy's wasm Context::sendLocalResponse and Http::Utility::prepareLocalReply / encodeLocalReply:
//
//  * HTTP: ':status', the guest's additional headers in order, then for a non-empty body
//    'content-length' and, unless the guest gave one, 'content-type: text/plain'; the body follows.
//  * gRPC (the request, as it arrived, has a :path and content-type application/grpc or
//    application/grpc+…; Grpc::Common::isGrpcRequestHeaders): a trailers-only response — one
//    headers frame that ends the stream, no body. ':status' becomes 200, content-type becomes
//    application/grpc (in place when the guest set one), 'grpc-status' is added unless the guest
//    set a non-empty one: the guest's grpc_status when it is 0..16, else the HTTP status mapped as
//    grpc/grpc's http-grpc-status-mapping; a non-empty body becomes 'grpc-message',
//    percent-encoded as Envoy's PercentEncoding::encode does; 'content-length' is removed.
import type { HeaderMap } from './vm.ts';
import type { LocalResponse } from './types.ts';
import { utf8Decode } from './text.ts';

const EMPTY = new Uint8Array(0);
const GRPC_CONTENT_TYPE = 'application/grpc';
/** Grpc::Status::WellKnownGrpcStatus::MaximumKnown: Envoy ignores grpc_status outside 0..16. */
const GRPC_MAX_KNOWN = 16;

/** Envoy's Grpc::Common::isGrpcRequestHeaders on the request headers as they arrived. */
export function isGrpcRequest(headers: ReadonlyArray<readonly [string, string]>): boolean {
  let path = false;
  let contentType: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name === ':path') path = true;
    else if (name === 'content-type' && contentType === undefined) contentType = headers[i]![1];
  }
  if (!path || contentType === undefined || !contentType.startsWith(GRPC_CONTENT_TYPE)) return false;
  return contentType.length === GRPC_CONTENT_TYPE.length || contentType.charCodeAt(GRPC_CONTENT_TYPE.length) === 0x2b; // '+'
}

/** Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

/** Envoy's PercentEncoding::encode with its default reserved set: bytes below ' ', from '~' up, and '%'. */
export function grpcPercentEncode(body: Uint8Array): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    out += b < 0x20 || b >= 0x7e || b === 0x25 ? `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}` : String.fromCharCode(b);
  }
  return out;
}

export interface LocalReplyRequest {
  status: number;
  body: Uint8Array;
  /** The guest's additional headers, names lower-cased. */
  extra: HeaderMap;
  details: string;
  /** The guest's grpc_status argument as a signed i32 (-1 = none). */
  grpcStatus: number;
  /** The request was gRPC (isGrpcRequest on its headers as they arrived). */
  grpc: boolean;
}

export function localReply(r: LocalReplyRequest): LocalResponse {
  const headers: [string, string][] = [[':status', String(r.status)], ...r.extra.map((h) => [h[0], h[1]] as [string, string])];
  const base = {
    additionalHeaders: r.extra.map((h) => [h[0], h[1]] as [string, string]),
    details: r.details.replace(/\s/g, '_'),
    grpcStatus: r.grpcStatus,
  };
  if (r.grpc) return { ...base, ...grpcReply(headers, r), grpc: true };
  if (r.body.length !== 0) {
    removeAll(headers, 'content-length');
    headers.push(['content-length', String(r.body.length)]);
    if (!headers.some((h) => h[0] === 'content-type')) headers.push(['content-type', 'text/plain']);
  }
  return { ...base, status: r.status, body: r.body, bodyText: utf8Decode(r.body), headers, grpc: false };
}

function grpcReply(headers: [string, string][], r: LocalReplyRequest): Pick<LocalResponse, 'status' | 'body' | 'bodyText' | 'headers'> {
  setHeader(headers, ':status', '200');
  setHeader(headers, 'content-type', GRPC_CONTENT_TYPE);
  const given = headers.find((h) => h[0] === 'grpc-status');
  if (given === undefined || given[1] === '') {
    const known = r.grpcStatus >= 0 && r.grpcStatus <= GRPC_MAX_KNOWN;
    setHeader(headers, 'grpc-status', String(known ? r.grpcStatus : httpToGrpcStatus(r.status)));
  }
  if (r.body.length !== 0) setHeader(headers, 'grpc-message', grpcPercentEncode(r.body));
  removeAll(headers, 'content-length');
  return { status: 200, body: EMPTY, bodyText: '', headers };
}

/** Envoy's set on a header map: the first entry of that name takes the value, or one is appended. */
function setHeader(headers: [string, string][], name: string, value: string): void {
  const at = headers.findIndex((h) => h[0] === name);
  if (at < 0) headers.push([name, value]);
  else headers[at] = [name, value];
}

function removeAll(map: [string, string][], key: string): void {
  let w = 0;
  for (let r = 0; r < map.length; r++) if (map[r]![0] !== key) map[w++] = map[r]!;
  map.length = w;
}
