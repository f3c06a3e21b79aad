// The controller's admin listener (plain HTTP): /metrics, /healthz, /readyz (200 once every
// watched collection has been listed), /status (JSON: identity, leadership, every app's state).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseListen } from '../address.ts';

export interface AdminSources {
  metrics(): Promise<string>;
  contentType: string;
  status(): unknown;
  ready(): boolean;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export function startAdmin(listen: string, sources: AdminSources): Promise<AdminServer> {
  const { host, port } = parseListen(listen, 'admin address');
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
    case '/metrics':
      return send(200, await sources.metrics(), sources.contentType);
    case '/healthz':
      return send(200, 'ok\n');
    case '/readyz':
      return sources.ready() ? send(200, 'ok\n') : send(503, 'not synced yet\n');
    case '/status':
      return send(200, `${JSON.stringify(sources.status(), null, 2)}\n`, 'application/json');
    case '/':
      return send(200, 'sergo controller admin\n  /metrics\n  /healthz\n  /readyz\n  /status\n');
    default:
      return send(404, 'not found\n');
  }
}
