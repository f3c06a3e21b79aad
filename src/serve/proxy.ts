// The proxy listener: each accepted connection is handed to one worker VM in turn, as Envoy hands
// it to one worker, and every request on it runs through the filter there (exchange.ts).
import http from 'node:http';
import type { Socket } from 'node:net';
import { Exchange, type ExchangeContext } from './exchange.ts';

/**
 * Envoy's HTTP/1 codec limits with its defaults (max_request_headers_kb 60, max_headers_count 100):
 * the request line and headers together over 60 KiB, or more than 100 headers, get a 431 (the URL
 * counts, so a long URL is a 431 too; Envoy 1.36 sends no 414), anything else unparsable a 400, each
 * with its reason as a text/plain body, and the connection is closed (test/envoy/limits.test.ts).
 */
export const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;
export const MAX_HEADERS_COUNT = 100;

function refusal(status: 400 | 431): string {
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${reason.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}`;
}

export function createProxyServer(ctx: ExchangeContext, vms: number): http.Server {
  const vmOf = new WeakMap<Socket, number>();
  let nextVm = 0;
  const proxy = http.createServer({ maxHeaderSize: MAX_REQUEST_HEADERS_BYTES }, (req, res) => {
    if (req.rawHeaders.length / 2 > MAX_HEADERS_COUNT) {
      req.socket.end(refusal(431));
      return;
    }
    new Exchange(ctx, req, res, vmOf.get(req.socket) ?? 0).start();
  });
  // Counted above, so one more than the limit must get through (Node drops the ones beyond).
  proxy.maxHeadersCount = MAX_HEADERS_COUNT + 1;
  proxy.on('connection', (socket: Socket) => {
    vmOf.set(socket, nextVm);
    nextVm = (nextVm + 1) % vms;
  });
  proxy.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end(refusal(err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400));
    else socket.destroy();
  });
  return proxy;
}
