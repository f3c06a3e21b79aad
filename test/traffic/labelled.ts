// Loopback upstreams that say who they are (for routing tests): each answers `<label> <path>` with
// header x-version: <label> (?status=N, ?delay=MS as test/envoy/upstream.ts), and records what reached it (path, headers) as test/envoy/upstream.ts does.
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upstream } from '../envoy/upstream.ts';

export class Labelled {
  private constructor(readonly label: string, readonly upstream: Upstream) {}

  static async start(label: string): Promise<Labelled> {
    const upstream = await Upstream.start((req, res) => {
      // ?status=N answers N, ?delay=MS answers after MS (timeouts, retries).
      const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(Number(q.get('status') ?? 200), { 'content-type': 'text/plain', 'x-version': label, 'x-upstream-path': req.url ?? '' }).end(`${label} ${req.url}`);
      };
      const delay = Number(q.get('delay') ?? 0);
      if (delay > 0) setTimeout(answer, delay);
      else answer();
      return true;
    });
    return new Labelled(label, upstream);
  }

  get port(): number {
    return this.upstream.port;
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}

/** An --endpoints file listing `hosts`, each with the given upstreams labelled `version: <label>`. */
export function endpointsFile(hosts: Record<string, readonly Labelled[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-endpoints-'));
  const lines = Object.entries(hosts).flatMap(([host, list]) => [
    `${host}:${list.length === 0 ? ' []' : ''}`,
    ...list.map((u) => `  - { address: 127.0.0.1:${u.port}, labels: { version: ${u.label}, app: ${host} } }`),
  ]);
  const file = join(dir, 'endpoints.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
