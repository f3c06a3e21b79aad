// proxy_http_call → HTTP: the filter's calls to the rate-limit service cluster (limitMode Global) are
// sent to the URL given with --rls, as Envoy's async client would send them to that cluster: the
// call's method, path (appended to the URL's path), authority, headers and body; the call's
// timeoutMs bounds the exchange (the host also answers 504 on its own at the deadline, as Envoy does).
import http from 'node:http';
import https from 'node:https';
import type { HttpCallHandler, HttpCallRequest, HttpCallResponse } from '../host/index.ts';
import type { Logger } from './log.ts';

export interface RlsForwarderOptions {
  url: URL;
  /** the cluster the current configuration calls the service (calls to other clusters fail) */
  cluster: () => string | undefined;
  logger: Logger;
  /** counts calls by outcome (serve's own stats) */
  count?: (outcome: 'ok' | 'error' | 'unknown_cluster') => void;
}

export function createRlsForwarder(opts: RlsForwarderOptions): { handler: HttpCallHandler; close(): void } {
  const { url, logger } = opts;
  const client = url.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const base = url.pathname.replace(/\/+$/, '');
  const handler: HttpCallHandler = (_vm: number, call: HttpCallRequest) => {
    const cluster = opts.cluster();
    if (call.cluster !== cluster) {
      logger.debug(`http call to unknown cluster "${call.cluster}" refused (the rate-limit service is "${cluster ?? '(none)'}")`);
      opts.count?.('unknown_cluster');
      return Promise.resolve(null);
    }
    return send(call).then(
      (r) => {
        opts.count?.('ok');
        return r;
      },
      (err: Error & { code?: string }) => {
        logger.debug(`rate-limit service call failed: ${err.message}`);
        opts.count?.('error');
        return envoyResetReply(err);
      },
    );
  };

  function send(call: HttpCallRequest): Promise<HttpCallResponse> {
    let method = 'GET';
    let path = '/';
    const headers: [string, string][] = [];
    for (const [k, v] of call.headers) {
      if (k === ':method') method = v;
      else if (k === ':path') path = v;
      else if (k === ':authority') headers.push(['host', v]);
      else if (!k.startsWith(':') && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') headers.push([k, v]);
    }
    headers.push(['content-length', String(call.body.length)]);
    return new Promise<HttpCallResponse>((resolve, reject) => {
      const req = client.request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? undefined : Number(url.port),
        method,
        path: base + path,
        headers: headers.flat(),
        agent,
        timeout: call.timeoutMs > 0 ? call.timeoutMs : undefined,
      });
      let timer: NodeJS.Timeout | undefined;
      if (call.timeoutMs > 0) {
        timer = setTimeout(() => req.destroy(new Error(`no answer within ${call.timeoutMs} ms`)), call.timeoutMs);
        timer.unref();
      }
      const fail = (err: Error) => {
        if (timer) clearTimeout(timer);
        reject(err);
      };
      req.on('error', fail);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${call.timeoutMs} ms`)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('response aborted')));
        res.on('end', () => {
          if (timer) clearTimeout(timer);
          const out: [string, string][] = [[':status', String(res.statusCode ?? 0)]];
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
          resolve({ headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.end(Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength));
    });
  }

  return { handler, close: () => agent.destroy() };
}

/**
 * What Envoy's async client delivers when the connection fails before a response: its router's local
 * reply, 503 with the reset reason (observed in Envoy 1.36 for a refused connection,
 * test/envoy/global.test.ts). Other failures (a timeout, a reset after the response began) stay
 * failures without headers (null).
 */
export function envoyResetReply(err: { code?: string }): HttpCallResponse | null {
  const reason = err.code === 'ECONNREFUSED' ? 'remote connection failure, transport failure reason: delayed connect error: Connection refused'
    : err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'connection termination' : undefined;
  if (reason === undefined) return null;
  const body = Buffer.from(`upstream connect error or disconnect/reset before headers. reset reason: ${reason}`);
  return { headers: [[':status', '503'], ['content-length', String(body.length)], ['content-type', 'text/plain']], body };
}
