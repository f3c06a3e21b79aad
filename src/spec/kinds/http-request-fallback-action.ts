// HttpRequestFallbackAction: the local reply for blocked requests. Only `ReturnProvidedResponse`
// exists. Header names must be HTTP tokens (emitted lower-case, as proxy-wasm expects) and values
// must not be able to inject headers (no CR, LF or NUL).
//
// Extension `behaviorDesc.responseGrpcStatus`: the grpc-status a blocked gRPC call gets (a code
// 0..16 or its name, e.g. RESOURCE_EXHAUSTED). Without it the filter picks one by strategy kind.
import { LIMITS } from '../../ir/limits.ts';
import type { FallbackResponse } from '../../ir/model.ts';
import type { Cursor } from '../cursor.ts';
import { readEnum, readInteger, readList, readMap, readText } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

const KNOWN_FIELDS = ['behavior', 'behaviorDesc'];
const DESC_FIELDS = ['responseStatusCode', 'responseContentBody', 'responseAdditionalHeaders', 'responseGrpcStatus'];
const HEADER_FIELDS = ['key', 'value'];

/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;
const MAX_BODY = LIMITS.fallbackBody.maxLength;
const MAX_HEADERS = LIMITS.fallbackHeaders.maxItems;
const MAX_NAME = LIMITS.headerName.maxLength;
const MAX_VALUE = LIMITS.headerValue.maxLength;

/** gRPC status codes by number (grpc/grpc doc/statuscodes.md); Envoy accepts exactly 0..16. */
export const GRPC_STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export function readHttpRequestFallbackAction(spec: Cursor, r: Reporter): FallbackResponse | undefined {
  const before = r.errorCount;
  readEnum(spec.get('behavior'), r, ['ReturnProvidedResponse'] as const);
  const desc = readMap(spec.get('behaviorDesc'), r);
  r.warnUnknownFields(spec, KNOWN_FIELDS);
  if (desc === undefined) return undefined;

  const status = readInteger(desc.get('responseStatusCode'), r, LIMITS.fallbackStatus);
  const body = readBody(desc.get('responseContentBody'), r);
  const headers = readHeaders(desc.get('responseAdditionalHeaders'), r);
  const grpcStatus = readGrpcStatus(desc.get('responseGrpcStatus'), r);
  r.warnUnknownFields(desc, DESC_FIELDS);
  if (r.errorCount > before || status === undefined) return undefined;
  return {
    status,
    ...(body === undefined ? {} : { body }),
    headers,
    ...(grpcStatus === undefined ? {} : { grpcStatus }),
  };
}

/** A gRPC status code 0..16, written as the number or its name (`RESOURCE_EXHAUSTED`). */
function readGrpcStatus(c: Cursor, r: Reporter): number | undefined {
  if (!c.present) return undefined;
  if (typeof c.value !== 'string') return readInteger(c, r, LIMITS.grpcStatus);
  const code = (GRPC_STATUS_NAMES as readonly string[]).indexOf(c.value);
  if (code < 0) r.error(c, `'${c.value}' is not a gRPC status: a code 0..16 or one of ${GRPC_STATUS_NAMES.join(', ')}`);
  return code < 0 ? undefined : code;
}

function readBody(c: Cursor, r: Reporter): string | undefined {
  const body = readText(c, r, { optional: true });
  if (body !== undefined && body.length > MAX_BODY) {
    r.error(c, `is ${body.length} characters long; at most ${MAX_BODY} allowed`);
    return undefined;
  }
  return body;
}

function readHeaders(c: Cursor, r: Reporter): Array<[string, string]> {
  const items = readList(c, r, { optional: true }) ?? [];
  if (items.length > MAX_HEADERS) r.error(c, `has ${items.length} headers; at most ${MAX_HEADERS} allowed`);
  const headers: Array<[string, string]> = [];
  for (const item of items) {
    if (readMap(item, r) === undefined) continue;
    const name = readHeaderName(item.get('key'), r);
    const value = readHeaderValue(item.get('value'), r);
    r.warnUnknownFields(item, HEADER_FIELDS);
    if (name !== undefined && value !== undefined) headers.push([name, value]);
  }
  return headers;
}

function readHeaderName(c: Cursor, r: Reporter): string | undefined {
  const name = readText(c, r);
  if (name === undefined) return undefined;
  if (name.length > MAX_NAME) {
    r.error(c, `is ${name.length} characters long; at most ${MAX_NAME} allowed`);
    return undefined;
  }
  if (!HEADER_NAME.test(name)) {
    r.error(c, `'${name}' is not a valid HTTP header name (letters, digits and !#$%&'*+.^_\`|~- only)`);
    return undefined;
  }
  return name.toLowerCase();
}

function readHeaderValue(c: Cursor, r: Reporter): string | undefined {
  if (!c.present) {
    r.error(c, 'is required (write "" for an empty value)');
    return undefined;
  }
  const value = readText(c, r);
  if (value === undefined) return undefined;
  if (FORBIDDEN_IN_VALUE.test(value)) {
    r.error(c, 'must not contain CR, LF or NUL characters');
    return undefined;
  }
  if (value.length > MAX_VALUE) {
    r.error(c, `is ${value.length} characters long; at most ${MAX_VALUE} allowed`);
    return undefined;
  }
  return value;
}
