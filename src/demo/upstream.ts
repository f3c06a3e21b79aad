// The demo's sample service: a normal endpoint, a slow one and a flaky one.
//   GET /api/hello, /api/hello/{name}   answers at once
//   GET /api/slow                       answers after ~300 ms
//   GET /api/flaky                      500 for a share of the requests set by flakyErrorRate()
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SampleUpstream {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface SampleUpstreamOptions {
  slowMs?: number;
  /** share of /api/flaky requests that fail with 500 (0..1), asked per request */
  flakyErrorRate?: () => number;
  random?: () => number;
}

export async function startSampleUpstream(opts: SampleUpstreamOptions = {}): Promise<SampleUpstream> {
  const slowMs = opts.slowMs ?? 300;
  const errorRate = opts.flakyErrorRate ?? (() => 0.3);
  const random = opts.random ?? Math.random;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/api/hello') return json(res, 200, { hello: 'world' });
    const name = /^\/api\/hello\/([^/]+)$/.exec(path);
    if (name) return json(res, 200, { hello: decodeURIComponent(name[1]!) });
    if (path === '/api/slow') {
      const t = setTimeout(() => json(res, 200, { slow: true, ms: slowMs }), slowMs);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (path === '/api/flaky') return random() < errorRate() ? json(res, 500, { error: 'flaky failed' }) : json(res, 200, { flaky: 'ok' });
    json(res, 404, { error: 'not found' });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
