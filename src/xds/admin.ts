// The admin listener of `sergo xds` (plain HTTP): /status (JSON), /stats/prometheus (also /metrics),
// /ready.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { XdsStatus } from './status.ts';

export interface AdminSources {
  status(): XdsStatus;
  metrics(): Promise<string>;
  contentType: string;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export function startAdmin(host: string, port: number, sources: AdminSources): Promise<AdminServer> {
  const server = http.createServer((req, res) => void answer(req, res, sources));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, sources: AdminSources): Promise<void> {
  const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
  switch ((req.url ?? '/').split('?')[0]) {
    case '/status':
      return send(200, `${JSON.stringify(sources.status(), null, 2)}\n`, 'application/json');
    case '/stats/prometheus':
    case '/metrics':
      return send(200, await sources.metrics(), sources.contentType);
    case '/ready':
      return send(200, 'LIVE\n');
    case '/':
      return send(200, 'sergo xds admin\n  /status\n  /stats/prometheus\n  /ready\n');
    default:
      return send(404, 'not found\n');
  }
}
