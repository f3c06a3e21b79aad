// Listen addresses of the two transports: parsing "host:port" and binding the HTTP and gRPC servers.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface ListenAddress {
  host: string;
  port: number;
  /** host:port as gRPC wants it ([v6]:port). */
  text: string;
}

/** Parses "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseListen(value: string, what: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid ${what} listen address "${value}" (expected HOST:PORT)`);
  const host = match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!);
  return { host, port, text: hostPort(host, port) };
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Listens and resolves the bound port (port 0 picks one); rejects on a listen error. */
export function listenHttp(http: Server, address: ListenAddress): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(address.port, address.host, () => {
      http.off('error', reject);
      resolve((http.address() as AddressInfo).port);
    });
  });
}

/** Binds without TLS and resolves the bound port. */
export function listenGrpc(server: grpc.Server, address: ListenAddress): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address.text, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}
