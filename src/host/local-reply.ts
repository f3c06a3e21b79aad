// The local reply Envoy builds for proxy_send_local_response (and for a failed stream), from
// Envoy's wasm Context::sendLocalResponse and Http::Utility::prepareLocalReply / encodeLocalReply:
//
//  * HTTP: ':status', the guest's additional headers in order, then for a non-empty body
//    'content-length' (in place when the guest gave one) and, unless the guest gave one,
//    'content-type: text/plain'; the body follows. (HTTP/1.1 sends the headers in this order.)
//  * gRPC (the request, as it arrived, has a :path and content-type application/grpc or
//    application/grpc+…; Grpc::Common::isGrpcRequestHeaders): a trailers-only response — one
//    headers frame that ends the stream, no body. ':status' becomes 200, content-type becomes
//    application/grpc (in place when the guest set one), 'grpc-status' is added unless the guest
//    set a non-empty one: the guest's grpc_status when it is 0..16, else the HTTP status mapped as
//    grpc/grpc's http-grpc-status-mapping; a non-empty body becomes 'grpc-message',
//    percent-encoded as Envoy's PercentEncoding::encode does; 'content-length' is removed. On the
//    wire (HTTP/2, Envoy's oghttp2 codec) headers of one name go out together, at the place of the
//    first: wireOrderHttp2.
import type { HeaderMap } from './context.ts';
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
    setHeader(headers, 'content-length', String(r.body.length));
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

/** Envoy's set of an inline header: the first entry of that name takes the value (later ones go),
 *  or one is appended. */
function setHeader(headers: [string, string][], name: string, value: string): void {
  const at = headers.findIndex((h) => h[0] === name);
  if (at < 0) {
    headers.push([name, value]);
    return;
  }
  headers[at] = [name, value];
  for (let i = headers.length - 1; i > at; i--) if (headers[i]![0] === name) headers.splice(i, 1);
}

/** The order Envoy's HTTP/2 codec sends a header map in (quiche's HttpHeaderBlock): all values of
 *  a name together, where that name first appears. */
export function wireOrderHttp2(headers: [string, string][]): [string, string][] {
  const groups = new Map<string, [string, string][]>();
  for (const h of headers) {
    const group = groups.get(h[0]);
    if (group === undefined) groups.set(h[0], [[h[0], h[1]]]);
    else group.push([h[0], h[1]]);
  }
  return [...groups.values()].flat();
}

function removeAll(map: [string, string][], key: string): void {
  let w = 0;
  for (let r = 0; r < map.length; r++) if (map[r]![0] !== key) map[w++] = map[r]!;
  map.length = w;
}
