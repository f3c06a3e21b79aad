// Closing serve's listeners: on shutdown let the requests in flight finish (up to a grace period)
// before every connection is closed (listening and closing at once: ../listen.ts).
import type http from 'node:http';

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
