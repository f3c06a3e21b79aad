// The proxy listener: each accepted connection is handed to one worker VM in turn, as Envoy hands
// it to one worker, and every request on it runs through the filter there (exchange.ts).
import http from 'node:http';
import type { Socket } from 'node:net';
import { Exchange, type ExchangeContext } from './exchange.ts';

export function createProxyServer(ctx: ExchangeContext, vms: number): http.Server {
  const vmOf = new WeakMap<Socket, number>();
  let nextVm = 0;
  const proxy = http.createServer((req, res) => {
    new Exchange(ctx, req, res, vmOf.get(req.socket) ?? 0).start();
  });
  proxy.on('connection', (socket: Socket) => {
    vmOf.set(socket, nextVm);
    nextVm = (nextVm + 1) % vms;
  });
  proxy.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return proxy;
}
