// Address arguments: `HOST:PORT` listen addresses and `http(s)://HOST[:PORT]` upstream URLs.
export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces); port 0 = any free port. */
export function parseListen(value: string, what = 'address'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`${what} "${value}": expected HOST:PORT (e.g. 127.0.0.1:10000, [::1]:10000, :10000)`);
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port };
}

export function formatListen(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An upstream or service URL: http or https, no credentials, query or fragment. */
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
