// One downstream request through the filter, driven as Envoy's HTTP connection manager drives a wasm
// filter: stream context → request headers (pseudo-headers + lower-cased headers) → [pause until
// continue_stream] → upstream (bodies streamed through the filter's body callbacks, never buffered
// here) → response headers → response body → on_log/on_done/on_delete when the response is complete,
// or a reset when either side goes away first (so concurrency slots and pacing slots are given back).
import type http from 'node:http';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { HeaderList, HttpStream, LocalResponse, ProxyWasmHost, StepResult } from '../host/index.ts';
import type { Logger } from './log.ts';
import { requestTarget } from './path.ts';

export interface ServeCounters {
  requests: number;
  active: number;
  localResponses: number;
  clientAborts: number;
  upstreamConnectErrors: number;
  upstreamTimeouts: number;
  upstreamResets: number;
  internalErrors: number;
}

export const newCounters = (): ServeCounters => ({
  requests: 0,
  active: 0,
  localResponses: 0,
  clientAborts: 0,
  upstreamConnectErrors: 0,
  upstreamTimeouts: 0,
  upstreamResets: 0,
  internalErrors: 0,
});

export interface ExchangeContext {
  host: ProxyWasmHost;
  upstream: URL;
  request: typeof http.request;
  agent: http.Agent;
  upstreamTimeoutMs: number;
  logger: Logger;
  counters: ServeCounters;
  /** called when a request starts or ends (breaker transitions are looked for afterwards) */
  activity(): void;
  /** which body callbacks the module exports (a direction without one is piped straight through) */
  bodyCallbacks: { request: boolean; response: boolean };
}

/** Connection-specific headers: never passed to the filter or across the proxy (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
const EMPTY = new Uint8Array(0);

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function requestHasBody(req: http.IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  return te !== undefined || (cl !== undefined && cl !== '0');
}

function responseHasBody(method: string, status: number, res: http.IncomingMessage): boolean {
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return false;
  return res.headers['content-length'] !== '0';
}

/** Header pairs (without pseudo-headers and hop-by-hop ones) as the flat list Node's http accepts. */
function flatHeaders(list: HeaderList): string[] {
  const out: string[] = [];
  for (const [k, v] of list) {
    if (k.startsWith(':') || HOP_BY_HOP.has(k)) continue;
    out.push(k, v);
  }
  return out;
}

const headerValue = (list: HeaderList, name: string): string | undefined => list.find((h) => h[0] === name)?.[1];

type Phase = 'request' | 'request-paused' | 'upstream' | 'response-paused' | 'responding' | 'done';

export class Exchange {
  private stream!: HttpStream;
  private phase: Phase = 'request';
  private upReq: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private upstreamGone = false; // we destroyed the upstream request on purpose
  private headersWritten = false;
  private callbacks = false;
  private resetByProxy = false; // the proxy reset the downstream (not a client abort)
  private method = 'GET';

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly vm: number,
  ) {}

  start(): void {
    const { ctx, req } = this;
    ctx.counters.requests++;
    ctx.counters.active++;
    this.res.on('close', () => this.closed());
    this.method = req.method ?? 'GET';
    const target = requestTarget(req.url ?? '/');
    if (target === undefined) return this.refuseTarget();
    const list: [string, string][] = [
      [':method', this.method],
      [':path', target.path],
      [':authority', target.authority ?? req.headers.host ?? ''],
      [':scheme', 'http'],
    ];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      if (k === 'host' || HOP_BY_HOP.has(k)) continue;
      list.push([k, raw[i + 1]!]);
    }
    if (req.headers['x-forwarded-proto'] === undefined) list.push(['x-forwarded-proto', 'http']);
    this.step(() => {
      this.stream = ctx.host.stream(this.vm);
      const r = this.stream.requestHeaders(list, !requestHasBody(req));
      this.afterRequestHeaders(r, list);
    });
    ctx.activity();
  }

  /** A request target that is no path (nor absolute URL): refused before the filter, as Envoy does. */
  private refuseTarget(): void {
    this.res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request: the request target is not a path\n');
  }

  // ---------------------------------------------------------------- request phase

  private afterRequestHeaders(r: StepResult, sent: HeaderList): void {
    switch (r.action) {
      case 'continue':
        return this.forward(this.stream.requestHeaderMap);
      case 'failed-open':
        return this.forward(sent);
      case 'pause':
        this.phase = 'request-paused';
        this.installCallbacks();
        return;
      case 'local-response':
      case 'failed-closed':
        return this.sendLocal(r.localResponse!);
      case 'reset':
        return this.destroyClient();
    }
  }

  private installCallbacks(): void {
    if (this.callbacks) return;
    this.callbacks = true;
    const s = this.stream;
    // continue_stream and send_local_response take effect after the filter's callback returns; run
    // our side after the host has finished its own bookkeeping.
    s.onResume = () => queueMicrotask(() => this.step(() => this.resumed()));
    s.onLocalResponse = (reply) => queueMicrotask(() => this.step(() => this.sendLocal(reply)));
    s.onClose = () => queueMicrotask(() => this.destroyClient());
  }

  private resumed(): void {
    const s = this.stream;
    if (this.phase === 'done') return;
    if (s.localResponse) return this.sendLocal(s.localResponse);
    if (s.paused) return; // paused again (e.g. by its body callback)
    if (this.phase === 'request-paused') return this.forward(s.requestHeaderMap);
    if (this.phase === 'response-paused' && this.pendingResponse) {
      const p = this.pendingResponse;
      this.pendingResponse = undefined;
      this.writeResponse(s.responseHeaderMap, p.body, p.eos);
    }
  }

  /** Sends the request upstream with the headers as the filter left them. */
  private forward(headers: HeaderList): void {
    const { ctx, req } = this;
    this.phase = 'upstream';
    const method = headerValue(headers, ':method') ?? this.method;
    const path = headerValue(headers, ':path') ?? '/';
    const authority = headerValue(headers, ':authority') ?? '';
    // Like Envoy (proxy_100_continue off): the client got its 100 Continue from us, not upstream.
    const flat = flatHeaders(headers.filter((h) => h[0] !== 'expect'));
    if (authority !== '') flat.push('host', authority);
    const remote = req.socket.remoteAddress;
    if (remote !== undefined) {
      const xff = headerValue(headers, 'x-forwarded-for');
      if (xff === undefined) flat.push('x-forwarded-for', remote);
      else flat[flat.indexOf('x-forwarded-for') + 1] = `${xff}, ${remote}`;
    }
    const u = ctx.upstream;
    const up = ctx.request({
      protocol: u.protocol,
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port === '' ? undefined : Number(u.port),
      method,
      path,
      headers: flat,
      agent: ctx.agent,
    });
    this.upReq = up;
    this.timer = setTimeout(() => this.timedOut(), ctx.upstreamTimeoutMs);
    up.on('response', (upRes) => this.step(() => this.upstreamResponse(upRes)));
    up.on('error', (err: NodeJS.ErrnoException) => this.step(() => this.upstreamError(err)));
    if (!requestHasBody(req)) {
      up.end();
      return;
    }
    if (!ctx.bodyCallbacks.request) {
      req.pipe(up);
      return;
    }
    const filter = this.bodyFilter('request');
    req.pipe(filter).pipe(up);
    req.on('error', () => filter.destroy());
  }

  // ---------------------------------------------------------------- response phase

  private pendingResponse: { body: Readable | undefined; eos: boolean } | undefined;

  private upstreamResponse(upRes: http.IncomingMessage): void {
    if (this.phase === 'done' || this.upstreamGone) {
      upRes.resume();
      return;
    }
    const status = upRes.statusCode ?? 502;
    const list: [string, string][] = [[':status', String(status)]];
    const raw = upRes.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      if (!HOP_BY_HOP.has(k)) list.push([k, raw[i + 1]!]);
    }
    upRes.on('close', () => {
      if (!upRes.complete && this.phase !== 'done' && !this.upstreamGone) {
        this.ctx.counters.upstreamResets++;
        this.ctx.logger.debug(`upstream reset during the response to ${this.method} ${this.req.url}`);
        this.resetBoth();
      }
    });
    upRes.on('end', () => this.clearTimer());
    const eos = !responseHasBody(this.method, status, upRes);
    if (eos) upRes.resume();
    this.respond(list, eos ? undefined : upRes, eos);
  }

  /** Response headers (from upstream or made up for an upstream failure) through the filter. */
  private respond(list: [string, string][], body: Readable | undefined, eos: boolean, details = 'via_upstream'): void {
    const r = this.stream.responseHeaders(list, eos, details);
    switch (r.action) {
      case 'continue':
        return this.writeResponse(this.stream.responseHeaderMap, body, eos);
      case 'failed-open':
        return this.writeResponse(list, body, eos);
      case 'pause':
        this.phase = 'response-paused';
        this.pendingResponse = { body, eos };
        this.installCallbacks();
        return;
      case 'local-response':
      case 'failed-closed':
        body?.resume();
        return this.sendLocal(r.localResponse!);
      case 'reset':
        return this.resetBoth();
    }
  }

  private writeResponse(headers: HeaderList, body: Readable | undefined, eos: boolean): void {
    const res = this.res;
    if (this.phase === 'done' || this.headersWritten) return;
    this.phase = 'responding';
    const status = Number(headerValue(headers, ':status') ?? 502);
    const flat = flatHeaders(headers);
    if (headerValue(headers, 'date') !== undefined) res.sendDate = false;
    this.headersWritten = true;
    res.writeHead(status, flat);
    if (eos || !body) {
      res.end();
      return;
    }
    if (this.ctx.bodyCallbacks.response) body.pipe(this.bodyFilter('response')).pipe(res);
    else body.pipe(res);
  }

  /**
   * Body chunks through the filter's body callbacks (sergo.wasm exports none; the host then hands
   * every chunk back unchanged). A filter that buffers (StopIterationAndBuffer) gets the whole body.
   */
  private bodyFilter(dir: 'request' | 'response'): Transform {
    const s = this.stream;
    const run = (chunk: Uint8Array, eos: boolean, cb: TransformCallback) => {
      if (this.phase === 'done') return cb();
      let r: StepResult;
      try {
        r = dir === 'request' ? s.requestBody(chunk, eos) : s.responseBody(chunk, eos);
      } catch (err) {
        cb();
        return this.internalError(err);
      }
      switch (r.action) {
        case 'continue':
          return cb(null, r.body && r.body.length > 0 ? asBuffer(r.body) : undefined);
        case 'failed-open':
          return cb(null, chunk.length > 0 ? asBuffer(chunk) : undefined);
        case 'pause':
          return cb(); // the filter is buffering: the host hands the whole body back on continue
        case 'local-response':
        case 'failed-closed':
          cb();
          return this.sendLocal(r.localResponse!);
        case 'reset':
          cb();
          return this.resetBoth();
      }
    };
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => run(chunk, false, cb),
      flush: (cb) => run(EMPTY, true, cb),
    });
  }

  // ---------------------------------------------------------------- failures and endings

  private upstreamError(err: NodeJS.ErrnoException): void {
    if (this.phase === 'done' || this.upstreamGone) return;
    if (this.headersWritten || this.phase === 'responding' || this.phase === 'response-paused') {
      this.ctx.counters.upstreamResets++;
      return this.resetBoth();
    }
    this.clearTimer();
    this.ctx.counters.upstreamConnectErrors++;
    const reason = err.code === 'ECONNREFUSED' ? 'connection failure' : err.code === 'ECONNRESET' ? 'connection reset' : (err.code ?? err.message);
    this.ctx.logger.debug(`upstream error for ${this.method} ${this.req.url}: ${err.message}`);
    // response.code_details as Envoy's router sets them (the filter's breakers read them).
    const details = `upstream_reset_before_response_started{${err.code === 'ECONNREFUSED' ? 'remote_connection_failure' : 'connection_termination'}}`;
    this.failUpstream(502, `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`, details);
  }

  private timedOut(): void {
    this.timer = undefined;
    if (this.phase === 'done') return;
    this.ctx.counters.upstreamTimeouts++;
    this.ctx.logger.debug(`upstream timeout (${this.ctx.upstreamTimeoutMs} ms) for ${this.method} ${this.req.url}`);
    if (this.headersWritten || this.phase === 'response-paused') return this.resetBoth();
    this.failUpstream(504, 'upstream request timeout', 'response_timeout');
  }

  /** Like Envoy's router: a local reply for the upstream failure, seen by the filter as the response. */
  private failUpstream(status: number, text: string, details: string): void {
    this.abortUpstream();
    const body = Buffer.from(text);
    const list: [string, string][] = [
      [':status', String(status)],
      ['content-length', String(body.length)],
      ['content-type', 'text/plain'],
    ];
    this.respond(list, Readable.from([body]), false, details);
  }

  private sendLocal(reply: LocalResponse): void {
    if (this.phase === 'done' || this.headersWritten) return;
    this.abortUpstream();
    this.clearTimer();
    this.phase = 'responding';
    this.headersWritten = true;
    this.ctx.counters.localResponses++;
    const body = asBuffer(reply.body);
    const flat = flatHeaders(reply.headers);
    if (!reply.headers.some((h) => h[0] === 'content-length')) flat.push('content-length', String(body.length));
    this.res.writeHead(reply.status, flat);
    this.res.end(body);
    // A request body the client is still sending is not needed any more.
    if (!this.req.complete) this.req.resume();
  }

  private abortUpstream(): void {
    if (this.upReq && !this.upstreamGone) {
      this.upstreamGone = true;
      this.upReq.destroy();
    }
  }

  private resetBoth(): void {
    this.abortUpstream();
    this.destroyClient();
  }

  private destroyClient(): void {
    if (this.phase === 'done') return;
    this.resetByProxy = true;
    this.res.destroy();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The response went out completely (on_log…) or the client went away first (reset). */
  private closed(): void {
    if (this.phase === 'done') return;
    const complete = this.res.writableFinished;
    this.phase = 'done';
    this.clearTimer();
    this.abortUpstream();
    const { counters } = this.ctx;
    counters.active--;
    try {
      if (this.stream) {
        if (complete) this.stream.finish();
        else {
          if (!this.resetByProxy) counters.clientAborts++;
          this.stream.reset();
        }
      }
    } catch (err) {
      this.ctx.logger.error(`internal error finishing a stream: ${(err as Error).stack ?? String(err)}`);
    }
    this.ctx.activity();
  }

  /** Runs a step; an exception (a bug, not the guest's fault: traps are handled by the host) → 500. */
  private step(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalError(err);
    }
  }

  private internalError(err: unknown): void {
    this.ctx.counters.internalErrors++;
    this.ctx.logger.error(`internal error on ${this.method} ${this.req.url}: ${(err as Error).stack ?? String(err)}`);
    if (this.phase === 'done') return;
    this.abortUpstream();
    if (this.headersWritten) return this.destroyClient();
    this.headersWritten = true;
    this.phase = 'responding';
    this.res.writeHead(500, ['content-type', 'text/plain']);
    this.res.end('internal error in sergo serve\n');
  }
}
