// Opening and closing serve's listeners: listen with a readable error, and on shutdown let the
// requests in flight finish (up to a grace period) before every connection is closed.
import type http from 'node:http';
import { formatListen } from './address.ts';

export function listenOn(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${formatListen(host, port)}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting; waits while `active()` requests remain (up to `graceMs`), then closes every connection. */
export async function drain(server: http.Server, active: () => number, graceMs: number): Promise<void> {
  server.close();
  const deadline = Date.now() + graceMs;
  while (active() > 0 && Date.now() < deadline) {
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 20));
  }
  server.closeAllConnections();
}

/** Closes a server and its connections at once. */
export function closeNow(server: http.Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}
