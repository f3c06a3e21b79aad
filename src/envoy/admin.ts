// Talking to Envoy's admin interface (plain HTTP/1.1 on loopback), and free loopback ports.
import { request } from 'node:http';
import { createServer } from 'node:net';

export interface AdminReply {
  status: number;
  body: string;
}

/** One GET on a connection of its own. */
export function adminGet(url: string, timeoutMs = 10_000): Promise<AdminReply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** /stats in Envoy's text form (`name: value` per line) as a map; histograms are left out. */
export async function readStats(adminUrl: string, filter?: string): Promise<Map<string, number>> {
  const query = filter === undefined ? '' : `?filter=${encodeURIComponent(filter)}`;
  return parseStats((await adminGet(`${adminUrl}/stats${query}`)).body);
}

export function parseStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(.+): (\d+)$/.exec(line);
    if (m !== null) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

/** A loopback port nobody listens on right now (Envoy binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
