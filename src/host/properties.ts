// proxy_get_property: the path is tokens joined by NUL ("request\0path"). Values are raw bytes:
// text as is, ints/timestamps as 8-byte little-endian int64, bools as one byte, maps as pairs.
// Served here: plugin_name, plugin_root_id, plugin_vm_id; for stream contexts request.* from the
// (live) request headers and response.* after the response started; anything given in
// HostOptions.properties or per stream; values stored with proxy_set_property. Anything else is
// NOT_FOUND, as in Envoy.
import { encodePairs } from './pairs.ts';
import { byteStringToBytes, utf8Encode } from './text.ts';
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
  startTimeNs: bigint;
  properties: Map<string, Uint8Array> | null;
  filterState: Map<string, Uint8Array> | null;
}

export interface PluginInfo {
  rootId: string;
  pluginName: string;
  vmId: string;
  properties: Map<string, Uint8Array>;
}

const header = (h: ReadonlyArray<readonly [string, string]>, name: string): string | undefined => {
  for (let i = 0; i < h.length; i++) if (h[i]![0] === name) return h[i]![1];
  return undefined;
};
const bs = (s: string | undefined): Uint8Array | null => (s === undefined ? null : byteStringToBytes(s));

function requestProperty(tokens: string[], h: ReadonlyArray<readonly [string, string]>, info: StreamInfoView): Uint8Array | null {
  if (tokens.length === 1) return null; // the whole request map is not serialized here
  const path = header(h, ':path');
  switch (tokens[1]) {
    case 'path':
      return tokens.length === 2 ? bs(path) : null;
    case 'url_path': {
      if (tokens.length !== 2 || path === undefined) return null;
      const q = path.indexOf('?');
      return byteStringToBytes(q < 0 ? path : path.slice(0, q));
    }
    case 'query': {
      if (tokens.length !== 2 || path === undefined) return null;
      const q = path.indexOf('?');
      return byteStringToBytes(q < 0 ? '' : path.slice(q + 1));
    }
    case 'host':
      return tokens.length === 2 ? bs(header(h, ':authority')) : null;
    case 'scheme':
      return tokens.length === 2 ? bs(header(h, ':scheme')) : null;
    case 'method':
      return tokens.length === 2 ? bs(header(h, ':method')) : null;
    case 'referer':
      return tokens.length === 2 ? bs(header(h, 'referer')) : null;
    case 'useragent':
      return tokens.length === 2 ? bs(header(h, 'user-agent')) : null;
    case 'id':
      return tokens.length === 2 ? bs(header(h, 'x-request-id')) : null;
    case 'time':
      return tokens.length === 2 ? encodeInt64(info.startTimeNs) : null;
    case 'headers':
      if (tokens.length === 2) return encodePairs(h);
      return tokens.length === 3 ? bs(header(h, tokens[2]!)) : null;
    default:
      return null;
  }
}

function responseProperty(tokens: string[], info: StreamInfoView): Uint8Array | null {
  const code = info.responseCode();
  if (code === null || tokens.length === 1) return null;
  switch (tokens[1]) {
    case 'code':
      return tokens.length === 2 ? encodeInt64(BigInt(code)) : null;
    case 'code_details': {
      const d = info.responseCodeDetails();
      return tokens.length === 2 && d !== null ? utf8Encode(d) : null;
    }
    case 'headers': {
      const h = info.responseHeaderView();
      if (!h) return null;
      if (tokens.length === 2) return encodePairs(h);
      return tokens.length === 3 ? bs(header(h, tokens[2]!)) : null;
    }
    default:
      return null;
  }
}

/** Resolves a NUL-joined path (byte string); null = NOT_FOUND. */
export function resolveProperty(path: string, plugin: PluginInfo, stream: StreamInfoView | null): Uint8Array | null {
  const own = stream?.properties?.get(path) ?? plugin.properties.get(path);
  if (own) return own;
  const tokens = path.split('\u0000');
  if (tokens.length > 1 && tokens[tokens.length - 1] === '') tokens.pop();
  switch (tokens[0]) {
    case 'plugin_root_id':
      return tokens.length === 1 ? utf8Encode(plugin.rootId) : null;
    case 'plugin_name':
      return tokens.length === 1 ? utf8Encode(plugin.pluginName) : null;
    case 'plugin_vm_id':
      return tokens.length === 1 ? utf8Encode(plugin.vmId) : null;
    case 'request': {
      const h = stream?.requestHeaderView();
      return h ? requestProperty(tokens, h, stream!) : null;
    }
    case 'response':
      return stream ? responseProperty(tokens, stream) : null;
    default:
      // Envoy looks unknown top-level names up in the filter state under "wasm.<name>".
      return stream?.filterState?.get(path) ?? null;
  }
}
