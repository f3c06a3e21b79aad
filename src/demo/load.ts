// The demo's traffic: a few concurrent clients per endpoint, each sending one request after the other
// (keep-alive connections, a short pause between requests), counting answers by kind.
import http from 'node:http';

export interface EndpointLoad {
  label: string;
  /** a path, or a function giving a path per request */
  path: string | (() => string);
  clients: number;
  /** pause between a client's requests, ms */
  pauseMs: number;
}

export interface EndpointStats {
  label: string;
  sent: number;
  ok: number;
  /** 429 (rate limit, throttling, concurrency) */
  limited: number;
  /** 503 (the breaker's fallback) */
  unavailable: number;
  /** other 4xx/5xx (e.g. the flaky endpoint's 500s) */
  failed: number;
  /** no answer (connection errors) */
  errors: number;
  latencies: number[];
}

export interface LoadRun {
  stats: EndpointStats[];
  /** stops sending; resolves when every client's last request has ended */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startLoad(baseUrl: string, endpoints: readonly EndpointLoad[]): LoadRun {
  const url = new URL(baseUrl);
  const total = endpoints.reduce((n, e) => n + e.clients, 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: total });
  let stopping = false;
  const stats: EndpointStats[] = endpoints.map((e) => ({ label: e.label, sent: 0, ok: 0, limited: 0, unavailable: 0, failed: 0, errors: 0, latencies: [] }));

  const once = (path: string): Promise<number> =>
    new Promise((resolve) => {
      const req = http.get({ hostname: url.hostname, port: url.port, path, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
    });

  const client = async (e: EndpointLoad, s: EndpointStats, index: number) => {
    await sleep(index * 7); // do not start every client in the same millisecond
    while (!stopping) {
      const path = typeof e.path === 'string' ? e.path : e.path();
      const t0 = performance.now();
      const status = await once(path);
      s.sent++;
      if (status === 0) s.errors++;
      else {
        if (s.latencies.length < 100_000) s.latencies.push(performance.now() - t0);
        if (status < 400) s.ok++;
        else if (status === 429) s.limited++;
        else if (status === 503) s.unavailable++;
        else s.failed++;
      }
      if (!stopping) await sleep(e.pauseMs);
    }
  };

  const loops = endpoints.flatMap((e, i) => Array.from({ length: e.clients }, (_, c) => client(e, stats[i]!, c)));
  return {
    stats,
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
