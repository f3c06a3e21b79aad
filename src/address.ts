// Addresses and URLs given on command lines: the one set of parsers that `sergo translate`, `sergo
// serve` and `sergo xds` use. The forms differ where their consumers do, and each says why:
//   * Envoy binds listeners to IP literals (it does not resolve names): parseBindAddress;
//   * Envoy reaches servers by IP or DNS name (a STRICT_DNS cluster): parseServerAddress;
//   * Node listens on names too, and on port 0 (any free port): parseListen;
//   * upstream and rate-limit service URLs in an emitted bootstrap: http only, no path
//     (parseUpstreamUrl, parseRlsUrl); serve's own client also speaks https (parseServiceUrl);
//   * module locations as Istio reads them: parseModuleUrl, parseSha256.
import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

interface HostPortText {
  host: string;
  /** Written as `[host]` (an IPv6 literal). */
  bracketed: boolean;
  port: string;
}

/** `HOST:PORT` or `[HOST]:PORT` split as written; neither part is checked yet. */
function splitHostPort(text: string): HostPortText | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text);
  if (match === null) return undefined;
  return { host: match[1] ?? match[2]!, bracketed: match[1] !== undefined, port: match[3]! };
}

/** 1..65535 written as at most five digits; undefined otherwise. */
function parsePort(text: string, allowZero = false): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= (allowZero ? 0 : 1) && port <= 65535 ? port : undefined;
}

/** `HOST:PORT` with HOST an IPv4 literal or a bracketed IPv6 literal (Envoy binds, it does not resolve). */
export function parseBindAddress(text: string): Parsed<HostPort> {
  const parts = splitHostPort(text);
  if (parts === undefined || parts.host === '') return { ok: false, error: `"${text}" is not HOST:PORT (e.g. 0.0.0.0:10000 or [::]:10000)` };
  const { host } = parts;
  if (isIP(host) === 0) return { ok: false, error: `"${host}" is not an IP address (Envoy binds to an address, it does not resolve names)` };
  if (parts.bracketed && isIP(host) !== 6) return { ok: false, error: `"[${host}]" is not an IPv6 address` };
  const port = parsePort(parts.port);
  if (port === undefined) return { ok: false, error: `port ${parts.port} is not in 1..65535` };
  return { ok: true, value: { host, port } };
}

/** `HOST:PORT` of a server Envoy connects to: an IP literal (`[…]` for IPv6) or a DNS name. */
export function parseServerAddress(text: string): Parsed<HostPort> {
  const parts = splitHostPort(text);
  const malformed = parts === undefined || parts.host === '' || (!parts.bracketed && /[\s/]/.test(parts.host)) || parts.port.length > 5;
  if (malformed) return { ok: false, error: `"${text}" is not HOST:PORT (e.g. 127.0.0.1:18000 or sergo-xds.sergo-system:18000)` };
  const { host } = parts;
  if (parts.bracketed && isIP(host) !== 6) return { ok: false, error: `"[${host}]" is not an IPv6 address` };
  const port = parsePort(parts.port);
  if (port === undefined) return { ok: false, error: `port ${parts.port} is not in 1..65535` };
  return { ok: true, value: { host, port } };
}

/**
 * Where a Node server listens: `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces); port 0 = any
 * free port. Throws an Error naming `what` (serve and xds report it as they start).
 */
export function parseListen(value: string, what = 'address'): HostPort {
  const parts = splitHostPort(value.trim());
  const port = parts === undefined ? undefined : parsePort(parts.port, true);
  if (parts === undefined || port === undefined || (parts.bracketed && !/^[0-9a-fA-F:.]+$/.test(parts.host))) {
    throw new Error(`${what} "${value}": expected HOST:PORT (e.g. 127.0.0.1:10000, [::1]:10000, :10000)`);
  }
  return { host: parts.bracketed || parts.host !== '' ? parts.host : '0.0.0.0', port };
}

export function formatListen(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `http://HOST[:PORT]` (no path, query or credentials); the port defaults to 80. */
export function parseUpstreamUrl(text: string): Parsed<HostPort> {
  return parseHttpUrl(text, 'upstreams', 'requests keep their own path');
}

/** The rate-limit service's HTTP/JSON address, `http://HOST[:PORT]`: the filter posts to /json. */
export function parseRlsUrl(text: string): Parsed<HostPort> {
  return parseHttpUrl(text, 'rate-limit service URLs', 'the filter posts to /json');
}

function parseHttpUrl(text: string, what: string, pathHint: string): Parsed<HostPort> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: `"${text}" is not a URL (expected http://HOST:PORT)` };
  }
  if (url.protocol !== 'http:') return { ok: false, error: `"${text}": only http:// ${what} are supported` };
  if (url.username !== '' || url.password !== '') return { ok: false, error: `"${text}": credentials in the URL are not supported` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || /^http:\/\/[^/]+\/./.test(text)) {
    return { ok: false, error: `"${text}": the URL must not have a path, query or fragment (${pathHint})` };
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return { ok: false, error: `"${text}" has no host` };
  const port = url.port === '' ? 80 : parsePort(url.port);
  if (port === undefined) return { ok: false, error: `"${text}": port ${url.port} is not in 1..65535` };
  return { ok: true, value: { host, port } };
}

/**
 * An upstream or service URL that serve's own HTTP client calls: http or https, no credentials,
 * query or fragment (a path is kept). Throws an Error naming `what`.
 */
export function parseServiceUrl(value: string, what = 'URL'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} "${value}": not a URL (expected http://HOST[:PORT])`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${what} "${value}": only http:// and https:// are supported`);
  if (url.username || url.password || url.search || url.hash) throw new Error(`${what} "${value}": credentials, query and fragment are not allowed`);
  return url;
}

/** `HEX` or `sha256:HEX` (64 hex digits) → lower-case HEX. */
export function parseSha256(text: string): Parsed<string> {
  const hex = text.startsWith('sha256:') ? text.slice('sha256:'.length) : text;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return { ok: false, error: `"${text}" is not a SHA-256 digest (64 hex digits, optionally prefixed sha256:)` };
  return { ok: true, value: hex.toLowerCase() };
}

export type ModuleUrlScheme = 'oci' | 'file' | 'http' | 'https';

export interface ModuleUrl {
  scheme: ModuleUrlScheme;
  url: string;
  /** The digest pinned in the URL (`…@sha256:HEX`), if any. */
  pinned?: string;
  /** file:// only: the path inside the proxy. */
  path?: string;
}

/** A module location as Istio reads it: oci://, file:///abs/path, http://, https://. */
export function parseModuleUrl(text: string): Parsed<ModuleUrl> {
  const scheme = /^([a-z]+):\/\//.exec(text)?.[1];
  if (scheme !== 'oci' && scheme !== 'file' && scheme !== 'http' && scheme !== 'https') {
    return { ok: false, error: `"${text}" must start with oci://, file://, http:// or https://` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: `"${text}" is not a valid URL` };
  }
  if (scheme === 'file') {
    if (url.host !== '' || !url.pathname.startsWith('/') || url.pathname === '/') {
      return { ok: false, error: `"${text}": a file URL names an absolute path inside the proxy, e.g. file:///var/local/sergo.wasm` };
    }
    return { ok: true, value: { scheme, url: text, path: decodeURIComponent(url.pathname) } };
  }
  if (url.host === '') return { ok: false, error: `"${text}" has no host` };
  if (scheme === 'oci' && url.pathname.length <= 1) return { ok: false, error: `"${text}" names no repository (e.g. oci://ghcr.io/you/sergo:0.1.0)` };
  const pinned = /@sha256:([0-9a-f]{64})$/.exec(text)?.[1];
  return { ok: true, value: pinned === undefined ? { scheme, url: text } : { scheme, url: text, pinned } };
}
