// `HOST:PORT` of a server Envoy connects to: an IP literal (`[…]` for IPv6) or a DNS name.
import { isIP } from 'node:net';
import type { HostPort, Parsed } from '../emit/envoy.ts';

export function parseServerAddress(text: string): Parsed<HostPort> {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined) return { ok: false, error: `"${text}" is not HOST:PORT (e.g. 127.0.0.1:18000 or sergo-xds.sergo-system:18000)` };
  if (match[1] !== undefined && isIP(host) !== 6) return { ok: false, error: `"[${host}]" is not an IPv6 address` };
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return { ok: false, error: `port ${match[3]} is not in 1..65535` };
  return { ok: true, value: { host, port } };
}
