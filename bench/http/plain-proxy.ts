// The baseline proxy of the HTTP benchmark: a minimal node:http reverse proxy with no filter, in
// the forwarding style of sergo serve (src/serve/exchange.ts) — the same header handling (hop-by-hop
// headers dropped, host, x-forwarded-for/-proto), a keep-alive agent to the upstream, an upstream
// timeout timer per request, bodies piped — so that the difference to sergo serve is the filter and
// its host.
import http from 'node:http';
import { listen, type Listening } from './upstream.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
const UPSTREAM_TIMEOUT_MS = 15_000;

function requestHasBody(req: http.IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  return te !== undefined || (cl !== undefined && cl !== '0');
}

export function startPlainProxy(upstream: URL): Promise<Listening> {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const headers: string[] = [];
    const raw = req.rawHeaders;
    let xff: string | undefined;
    let proto = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      if (k === 'host' || HOP_BY_HOP.has(k)) continue;
      if (k === 'x-forwarded-for') {
        xff = raw[i + 1]!;
        continue;
      }
      if (k === 'x-forwarded-proto') proto = true;
      headers.push(k, raw[i + 1]!);
    }
    if (!proto) headers.push('x-forwarded-proto', 'http');
    if (req.headers.host !== undefined) headers.push('host', req.headers.host);
    const remote = req.socket.remoteAddress;
    if (remote !== undefined) headers.push('x-forwarded-for', xff === undefined ? remote : `${xff}, ${remote}`);
    const up = http.request({ hostname: upstream.hostname, port: Number(upstream.port), method: req.method, path: req.url, headers, agent });
    const timer = setTimeout(() => {
      up.destroy();
      if (!res.headersSent) res.writeHead(504).end('upstream request timeout');
      else res.destroy();
    }, UPSTREAM_TIMEOUT_MS);
    up.on('response', (upRes) => {
      const out: string[] = [];
      const rh = upRes.rawHeaders;
      for (let i = 0; i + 1 < rh.length; i += 2) if (!HOP_BY_HOP.has(rh[i]!.toLowerCase())) out.push(rh[i]!, rh[i + 1]!);
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.on('end', () => clearTimeout(timer));
      upRes.pipe(res);
    });
    up.on('error', () => {
      clearTimeout(timer);
      if (!res.headersSent) res.writeHead(502).end('upstream connect error');
      else res.destroy();
    });
    if (requestHasBody(req)) req.pipe(up);
    else up.end();
  });
  return listen(server).then((l) => ({
    port: l.port,
    close: async () => {
      await l.close();
      agent.destroy();
    },
  }));
}
