// proxy_get_property: the path is tokens joined by NUL ("request\0path"). Values are raw bytes:
// text as is, ints/timestamps as 8-byte little-endian int64, bools as one byte, maps as pairs.
// Served here: plugin_name, plugin_root_id, plugin_vm_id; for stream contexts request.* from the
// (live) request headers (path, url_path, query, host, scheme, method, referer, useragent, id,
// headers, time, protocol) and response.* after the response started; anything given in
// HostOptions.properties or per stream; values stored with proxy_set_property. Anything else is
// NOT_FOUND, as in Envoy.
import { encodePairs } from './pairs.ts';
import { utf8Encode } from './text.ts';
import type { PropertyValue } from './types.ts';

export function encodeInt64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, v), true);
  return out;
}

export function encodePropertyValue(v: PropertyValue): Uint8Array {
  if (typeof v === 'string') return utf8Encode(v);
  if (typeof v === 'bigint') return encodeInt64(v);
  if (typeof v === 'boolean') return new Uint8Array([v ? 1 : 0]);
  return v;
}

/** 'xds.node.id' → 'xds\0node\0id' (a path already containing NUL is kept). */
export const propertyPath = (p: string): string => (p.includes('\u0000') ? p : p.split('.').join('\u0000'));

export function encodeProperties(props: Record<string, PropertyValue> | undefined): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(props ?? {})) m.set(propertyPath(k), encodePropertyValue(v));
  return m;
}

/** What a stream exposes to property lookups. */
export interface StreamInfoView {
  requestHeaderView(): ReadonlyArray<readonly [string, string]> | null;
  responseHeaderView(): ReadonlyArray<readonly [string, string]> | null;
  responseCode(): number | null;
  responseCodeDetails(): string | null;
  readonly startTimeNs: bigint;
  properties: Map<string, Uint8Array> | null;
  filterState: Map<string, Uint8Array> | null;
}

export interface PluginInfo {
  rootId: string;
  pluginName: string;
  vmId: string;
  properties: Map<string, Uint8Array>;
}

const header = (h: ReadonlyArray<readonly [string, string]>, name: string): string | null => {
  for (let i = 0; i < h.length; i++) if (h[i]![0] === name) return h[i]![1];
  return null;
};

/** A resolved value: bytes, or a byte string (one char per byte) to copy out as is. */
export type PropertyBytes = Uint8Array | string;

function requestProperty(sub: string, h: ReadonlyArray<readonly [string, string]>, info: StreamInfoView): PropertyBytes | null {
  switch (sub) {
    case 'path':
      return header(h, ':path');
    case 'url_path': {
      const path = header(h, ':path');
      if (path === null) return null;
      const q = path.indexOf('?');
      return q < 0 ? path : path.slice(0, q);
    }
    case 'query': {
      const path = header(h, ':path');
      if (path === null) return null;
      const q = path.indexOf('?');
      return q < 0 ? '' : path.slice(q + 1);
    }
    case 'host':
      return header(h, ':authority');
    case 'scheme':
      return header(h, ':scheme');
    case 'method':
      return header(h, ':method');
    case 'referer':
      return header(h, 'referer');
    case 'useragent':
      return header(h, 'user-agent');
    case 'id':
      return header(h, 'x-request-id');
    case 'time':
      return encodeInt64(info.startTimeNs);
    case 'protocol':
      return 'HTTP/1.1'; // override per stream with the property 'request.protocol'
    case 'headers':
      return encodePairs(h);
    default:
      return sub.startsWith('headers\u0000') && sub.indexOf('\u0000', 8) < 0 ? header(h, sub.slice(8)) : null;
  }
}

function responseProperty(sub: string, info: StreamInfoView): PropertyBytes | null {
  const code = info.responseCode();
  if (code === null) return null;
  switch (sub) {
    case 'code':
      return encodeInt64(BigInt(code));
    case 'code_details': {
      const d = info.responseCodeDetails();
      return d !== null ? utf8Encode(d) : null;
    }
    case 'headers': {
      const h = info.responseHeaderView();
      return h ? encodePairs(h) : null;
    }
    default: {
      const h = info.responseHeaderView();
      return h && sub.startsWith('headers\u0000') && sub.indexOf('\u0000', 8) < 0 ? header(h, sub.slice(8)) : null;
    }
  }
}

/** Resolves a NUL-joined path (byte string); null = NOT_FOUND. */
export function resolveProperty(path: string, plugin: PluginInfo, stream: StreamInfoView | null): PropertyBytes | null {
  const own = (stream !== null && stream.properties !== null ? stream.properties.get(path) : undefined) ?? plugin.properties.get(path);
  if (own !== undefined) return own;
  if (path.charCodeAt(path.length - 1) === 0) path = path.slice(0, -1); // a trailing separator adds no token
  if (path.startsWith('request\u0000')) {
    const h = stream !== null ? stream.requestHeaderView() : null;
    return h !== null ? requestProperty(path.slice(8), h, stream!) : null;
  }
  if (path.startsWith('response\u0000')) return stream !== null ? responseProperty(path.slice(9), stream) : null;
  switch (path) {
    case 'plugin_root_id':
      return utf8Encode(plugin.rootId);
    case 'plugin_name':
      return utf8Encode(plugin.pluginName);
    case 'plugin_vm_id':
      return utf8Encode(plugin.vmId);
    default:
      // Envoy looks unknown top-level names up in the filter state under "wasm.<name>".
      return stream?.filterState?.get(path) ?? null;
  }
}
