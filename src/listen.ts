// Opening and closing Node HTTP servers: the one place that turns listen's 'error' event into a
// promise, for serve's listeners and the admin listeners of `sergo xds` and the controller.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatListen } from './address.ts';

/** Listens on host:port (0: any free port) and gives the bound port; rejects with Node's own error. */
export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** As `listen`, with an error that names the address ("cannot listen on 127.0.0.1:80: address in use"). */
export async function listenOn(server: http.Server, host: string, port: number): Promise<void> {
  try {
    await listen(server, host, port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot listen on ${formatListen(host, port)}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}`);
  }
}

/** Closes a server and its connections at once. */
export function closeNow(server: http.Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}
