// A plain-HTTP admin listener (GET and HEAD only, nothing cached): the form that the admin ports
// of `sergo xds` and the controller share. Each gives its own routes; `/` lists them.
import http from 'node:http';
import { closeNow, listen } from './listen.ts';

export interface AdminReply {
  body: string;
  /** 200 unless given. */
  status?: number;
  /** text/plain unless given. */
  type?: string;
}

export type AdminRoute = () => AdminReply | Promise<AdminReply>;

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export interface AdminSite {
  /** The first line of `/` ("sergo xds admin"). */
  title: string;
  routes: Record<string, AdminRoute>;
  /** The paths `/` lists (all routes unless given: aliases can stay unlisted). */
  listed?: string[];
}

export const TEXT = 'text/plain; charset=utf-8';

export async function startAdminServer(host: string, port: number, site: AdminSite): Promise<AdminServer> {
  const server = http.createServer((req, res) => void answer(req, res, site));
  const bound = await listen(server, host, port);
  return { port: bound, close: () => closeNow(server) };
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, site: AdminSite): Promise<void> {
  const send = ({ status = 200, body, type = TEXT }: AdminReply) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send({ status: 405, body: 'method not allowed\n' });
  const path = (req.url ?? '/').split('?')[0]!;
  const route = Object.hasOwn(site.routes, path) ? site.routes[path] : undefined;
  if (route !== undefined) return send(await route());
  if (path === '/') return send({ body: [site.title, ...(site.listed ?? Object.keys(site.routes)).map((p) => `  ${p}`)].join('\n') + '\n' });
  return send({ status: 404, body: 'not found\n' });
}

/** A JSON document, indented, as /status answers. */
export const jsonReply = (value: unknown): AdminReply => ({ body: `${JSON.stringify(value, null, 2)}\n`, type: 'application/json' });
