// A loopback upstream for the Envoy tests. Its behaviour is chosen by the request, so one server
// serves every scenario, and it records what reached it (the path as Envoy forwarded it):
//   ?status=N       answer N                       ?delay=MS    answer after MS
//   ?reset=1        destroy the connection without an answer (an upstream reset)
//   ?hang=1         never answer (until the client or Envoy gives up)
// Every answer's body is `upstream <path as received>`; header `x-upstream-path` says the same.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
}

export class Upstream {
  readonly seen: Seen[] = [];
  /** Requests being served right now (started, not yet answered or closed). */
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(handler?: (req: IncomingMessage, res: ServerResponse) => boolean) {
    this.server = createServer((req, res) => {
      this.seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, at: Date.now() });
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let done = false;
      const finish = () => { if (!done) { done = true; this.inFlight--; } };
      res.on('close', finish);
      if (handler?.(req, res) === true) return;
      this.answer(req, res);
    });
    this.server.keepAliveTimeout = 60_000;
  }

  static async start(handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<Upstream> {
    const upstream = new Upstream(handler);
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Paths that reached the upstream, in order of arrival. */
  paths(): string[] {
    return this.seen.map((s) => s.path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    // Only the query string matters here: read it without URL's path parsing, which throws on `//…`.
    const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    if (q.get('reset') === '1') { req.socket.destroy(); return; }
    if (q.get('hang') === '1') { this.hanging.add(res); res.on('close', () => this.hanging.delete(res)); return; }
    const status = Number(q.get('status') ?? 200);
    const delay = Number(q.get('delay') ?? 0);
    const reply = () => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-upstream-path': req.url ?? '' }).end(`upstream ${req.url}`);
    };
    if (delay > 0) setTimeout(reply, delay); else reply();
  }
}
