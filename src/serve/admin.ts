// The admin listener, Envoy-like: /ready, /stats, /stats/prometheus, /config_dump. GET and HEAD
// only; nothing is cached.
import http from 'node:http';
import { renderPlain, renderPrometheus, type StatSample } from './stats.ts';

/** starting: not listening yet; live: serving; draining: close() was called. */
export type ServePhase = 'starting' | 'live' | 'draining';

export interface AdminView {
  phase(): ServePhase;
  samples(): StatSample[];
  /** the configuration the filter runs */
  config(): unknown;
}

const READY_TEXT: Record<ServePhase, string> = { starting: 'PRE_INITIALIZING\n', live: 'LIVE\n', draining: 'DRAINING\n' };

export function createAdminServer(view: AdminView): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    switch (path) {
      case '/stats/prometheus':
        return send(200, renderPrometheus(view.samples()), 'text/plain; version=0.0.4; charset=utf-8');
      case '/stats':
        return send(200, renderPlain(view.samples()));
      case '/ready': {
        const phase = view.phase();
        return send(phase === 'live' ? 200 : 503, READY_TEXT[phase]);
      }
      case '/config_dump':
        return send(200, `${JSON.stringify(view.config(), null, 2)}\n`, 'application/json');
      case '/':
        return send(200, 'sergo serve admin\n  /ready\n  /stats\n  /stats/prometheus\n  /config_dump\n');
      default:
        return send(404, 'not found\n');
    }
  });
}
