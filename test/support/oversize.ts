// Requests beyond the HTTP/1 codec's limits, sent as raw bytes (a client library would refuse them),
// with what Envoy 1.36 answers to each (test/envoy/limits.test.ts holds Envoy to it; sergo serve must
// answer the same, test/serve/limits.test.ts).
import { connect } from 'node:net';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `bytes` on a new connection and reads until the server closes it (or 10 s pass). */
export function rawExchange(url: string, bytes: string): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    const done = () => {
      const [head = '', body = ''] = data.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body });
    };
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('connect', () => socket.write(bytes, 'latin1'));
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('close', done);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
  });
}

const headers = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join('');

/** Each request, and the status and body Envoy 1.36 (default limits: 60 KiB of headers, 100 headers) answers. */
export const OVERSIZE_CASES: Array<{ what: string; bytes: string; status: number; body?: string }> = [
  { what: 'a 70 KiB URL', bytes: `GET /a${'a'.repeat(70 * 1024)} HTTP/1.1\r\nhost: svc\r\n\r\n`, status: 431, body: 'Request Header Fields Too Large' },
  { what: 'a 70 KiB header', bytes: `GET /a HTTP/1.1\r\nhost: svc\r\nx-big: ${'b'.repeat(70 * 1024)}\r\n\r\n`, status: 431, body: 'Request Header Fields Too Large' },
  { what: '101 headers', bytes: `GET /a HTTP/1.1\r\nhost: svc\r\n${headers(100)}\r\n`, status: 431, body: 'Request Header Fields Too Large' },
  { what: 'a request line that is no HTTP', bytes: 'GARBAGE / NONSENSE\r\n\r\n', status: 400, body: 'Bad Request' },
  { what: 'a 12 KiB URL (within the upstream\'s 16 KiB too)', bytes: `GET /a${'a'.repeat(12 * 1024)} HTTP/1.1\r\nhost: svc\r\nconnection: close\r\n\r\n`, status: 200 },
  { what: '100 headers', bytes: `GET /a HTTP/1.1\r\nhost: svc\r\nconnection: close\r\n${headers(98)}\r\n`, status: 200 },
];
