// The HTTP transport: POST /json (the call in proto3 JSON; 200 OK, 429 OVER_LIMIT), GET /healthz
// (Redis answers a PING in time), GET /metrics (Prometheus).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Calls } from './calls.ts';
import { ping, RedisUnavailableError, type RedisClient } from './counter.ts';
import { decodeJsonRequest, encodeJsonResponse } from './json.ts';
import type { RlsLogger } from './log.ts';
import type { RlsMetrics } from './metrics.ts';
import { InvalidRequestError } from './model.ts';

const MAX_BODY_BYTES = 1 << 20;

export interface HttpDeps {
  calls: Calls;
  client: RedisClient;
  timeoutMs: number;
  metrics: RlsMetrics;
  log: RlsLogger;
}

export interface HttpFront {
  server: Server;
  /** From now on every response closes its connection (keep-alive clients reconnect elsewhere). */
  beginClosing(): void;
}

export function createHttpFront(deps: HttpDeps): HttpFront {
  let closing = false;
  const send: Send = (res, status, headers, body) => {
    if (closing) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  };
  const server = createServer((req, res) => {
    handleHttp(deps, send, req, res).catch((err: unknown) => {
      deps.log.error(`HTTP handler failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(send, res, 500, errorBody('INTERNAL', 'internal error'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return { server, beginClosing: () => (closing = true) };
}

type Send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => void;

function sendJson(send: Send, res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}): void {
  send(res, status, { 'content-type': 'application/json', ...headers }, json);
}

function sendText(send: Send, res: ServerResponse, status: number, text: string): void {
  send(res, status, { 'content-type': 'text/plain; charset=utf-8' }, text);
}

async function handleHttp(deps: HttpDeps, send: Send, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/json') return handleJson(deps, send, req, res);
  if (path === '/healthz' && read) return handleHealth(deps, send, res);
  if (path === '/metrics' && read) {
    const { registry } = deps.metrics;
    return send(res, 200, { 'content-type': registry.contentType }, await registry.metrics());
  }
  sendJson(send, res, 404, errorBody('NOT_FOUND', `no route ${req.method} ${path} (POST /json, GET /healthz, GET /metrics)`));
}

async function handleJson(deps: HttpDeps, send: Send, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendJson(send, res, 405, errorBody('METHOD_NOT_ALLOWED', 'use POST'), { allow: 'POST' });
  const body = await readBody(req);
  if (body === undefined) {
    return sendJson(send, res, 413, errorBody('INVALID_ARGUMENT', `body larger than ${MAX_BODY_BYTES} bytes`));
  }
  const result = await deps.calls.serve('http', () => decodeJsonRequest(body));
  if ('response' in result) {
    const status = result.response.overallCode === 'OK' ? 200 : 429;
    return sendJson(send, res, status, encodeJsonResponse(result.response));
  }
  const { status, code } = httpError(result.error);
  if (status === 500) deps.log.error(`decision failed: ${(result.error as Error).stack ?? String(result.error)}`);
  sendJson(send, res, status, errorBody(code, (result.error as Error).message));
}

async function handleHealth(deps: HttpDeps, send: Send, res: ServerResponse): Promise<void> {
  try {
    await ping(deps.client, deps.timeoutMs);
    sendText(send, res, 200, 'ok\n');
  } catch (err) {
    if (err instanceof RedisUnavailableError) deps.metrics.redisErrors.inc({ kind: err.kind });
    sendText(send, res, 503, `unhealthy: ${(err as Error).message}\n`);
  }
}

function httpError(error: unknown): { status: number; code: string } {
  if (error instanceof InvalidRequestError) return { status: 400, code: 'INVALID_ARGUMENT' };
  if (error instanceof RedisUnavailableError) return { status: 503, code: 'UNAVAILABLE' };
  return { status: 500, code: 'INTERNAL' };
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** The body as text, or undefined when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
