// The parts of the Envoy benchmark that are not sergo's: a fast upstream (a second Envoy answering
// from its route), the bootstrap variants sergo does not emit (derived from the emitted one, so that
// listener, cluster, admin and access log stay identical), and the load generator (wrk, else autocannon).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { EnvoyProcess, freePort } from '../../src/envoy/index.ts';

// ---- the upstream ------------------------------------------------------------------------------

export const UPSTREAM_BODY = '{"ok":true}\n';

/** An Envoy whose only route answers 200 with UPSTREAM_BODY (direct_response): C++, no GC, ~15 µs/request. */
export async function startUpstreamEnvoy(binary: string, dir: string, cpus?: string): Promise<{ url: string; envoy: EnvoyProcess }> {
  const [port, admin] = [await freePort(), await freePort()];
  const file = join(dir, 'upstream.yaml');
  writeFileSync(file, stringify({
    admin: { address: socket(admin) },
    static_resources: {
      listeners: [{
        name: 'upstream', address: socket(port),
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'upstream',
          route_config: { virtual_hosts: [{ name: 'upstream', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: UPSTREAM_BODY } } }] }] },
          http_filters: [ROUTER],
        } }] }],
      }],
    },
  }));
  const envoy = await EnvoyProcess.start({ binary, bootstrapFile: file, adminUrl: `http://127.0.0.1:${admin}`, concurrency: 1, logLevel: 'warning', cpus });
  return { url: `http://127.0.0.1:${port}`, envoy };
}

const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

// ---- bootstrap variants ------------------------------------------------------------------------

const WASM_FILTER = 'envoy.filters.http.wasm';

interface HttpFilter { name: string; typed_config: Record<string, unknown> }

/** The emitted bootstrap with its HTTP filter list changed by `edit` (the wasm filter must be there). */
function withHttpFilters(bootstrap: string, edit: (filters: HttpFilter[]) => HttpFilter[]): string {
  const doc = parse(bootstrap) as { static_resources: { listeners: { filter_chains: { filters: { typed_config: { http_filters: HttpFilter[] } }[] }[] }[] } };
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
  if (!hcm.http_filters.some((f) => f.name === WASM_FILTER)) throw new Error('the emitted bootstrap has no wasm filter to replace');
  hcm.http_filters = edit(hcm.http_filters);
  return stringify(doc);
}

/** (a) the router alone: the wasm filter taken out. */
export function routerOnly(bootstrap: string): string {
  return withHttpFilters(bootstrap, (filters) => filters.filter((f) => f.name !== WASM_FILTER));
}

/** The wasm filter given `text` as its plugin configuration in place of the filter's JSON (a bench module's "<case>"). */
export function withPluginConfiguration(text: string): (bootstrap: string) => string {
  return (bootstrap) => withHttpFilters(bootstrap, (filters) => filters.map((f) => {
    if (f.name !== WASM_FILTER) return f;
    const config = f.typed_config.config as { configuration: { value: string } };
    return { ...f, typed_config: { ...f.typed_config, config: { ...config, configuration: { ...config.configuration, value: text } } } };
  }));
}

export const NATIVE_STAT_PREFIX = 'bench_local_rate_limit';

/**
 * (f) Envoy's native local_ratelimit in the wasm filter's place: one token bucket shared by the
 * workers (as sergo's counters are), enabled and enforced for every request, that never empties.
 */
export function nativeLocalRateLimit(bootstrap: string): string {
  const always = (key: string) => ({ runtime_key: key, default_value: { numerator: 100, denominator: 'HUNDRED' } });
  const native: HttpFilter = {
    name: 'envoy.filters.http.local_ratelimit',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: NATIVE_STAT_PREFIX,
      token_bucket: { max_tokens: 1_000_000_000, tokens_per_fill: 1_000_000_000, fill_interval: '1s' },
      filter_enabled: always('bench_local_rate_limit_enabled'),
      filter_enforced: always('bench_local_rate_limit_enforced'),
    },
  };
  return withHttpFilters(bootstrap, (filters) => filters.map((f) => (f.name === WASM_FILTER ? native : f)));
}

// ---- the load generator ------------------------------------------------------------------------

export interface LoadResult {
  requests: number;
  seconds: number;
  /** answers that were not 2xx/3xx, plus connect/read/write errors and timeouts */
  failed: number;
  /** latency of every response, ms */
  p50: number;
  p99: number;
}

export interface LoadGenerator {
  name: string;
  /** closed-loop load: `connections` keep-alive connections, one request at a time each; `cpus`: a taskset CPU list */
  run(url: string, seconds: number, connections: number, cpus?: string): Promise<LoadResult>;
}

/** wrk's summary as one JSON line (its latency histogram has µs resolution). */
const WRK_SCRIPT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"failed":%d,"p50":%d,"p99":%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

/** wrk (Debian's package), one thread; undefined when it is not installed. */
export async function wrkGenerator(dir: string): Promise<LoadGenerator | undefined> {
  if ((await output('wrk', ['--version'])).code === undefined) return undefined;
  const script = join(dir, 'summary.lua');
  writeFileSync(script, WRK_SCRIPT);
  return {
    name: 'wrk (1 thread)',
    async run(url, seconds, connections, cpus) {
      const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', script, url];
      const r = await output(...pinned(cpus, 'wrk', args));
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (r.code !== 0 || !line.startsWith('{')) throw new Error(`wrk failed (${r.code}): ${r.stdout}${r.stderr}`);
      const j = JSON.parse(line) as { requests: number; us: number; failed: number; p50: number; p99: number };
      return { requests: j.requests, seconds: j.us / 1e6, failed: j.failed, p50: j.p50 / 1000, p99: j.p99 / 1000 };
    },
  };
}

/** autocannon (a devDependency) in a child process, when wrk is missing: latency in whole ms only. */
export function autocannonGenerator(): LoadGenerator {
  const cli = join(createRequire(import.meta.url).resolve('autocannon'), '..', 'autocannon.js');
  return {
    name: 'autocannon (a child process; latency in whole ms)',
    async run(url, seconds, connections, cpus) {
      const args = [cli, '--json', '-c', String(connections), '-d', String(seconds), url];
      const r = await output(...pinned(cpus, process.execPath, args));
      if (r.code !== 0) throw new Error(`autocannon failed (${r.code}): ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { requests: { total: number }; duration: number; errors: number; timeouts: number; non2xx: number; latency: { p50: number; p99: number } };
      return { requests: j.requests.total, seconds: j.duration, failed: j.errors + j.timeouts + j.non2xx, p50: j.latency.p50, p99: j.latency.p99 };
    },
  };
}

/** The command line that runs `command` on `cpus` (taskset), or as is. */
function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

/** Moves a running process and all its threads to `cpus` (taskset -a -p). */
export async function setAffinity(pid: number, cpus: string): Promise<void> {
  const r = await output('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
  if (r.code !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed (${r.code}): ${r.stderr}`);
}

/** Whether taskset runs here (util-linux). */
export async function hasTaskset(): Promise<boolean> {
  return (await output('taskset', ['-V'])).code === 0;
}

/** Runs a command to its end; `code` undefined when it could not be started. */
function output(command: string, args: string[]): Promise<{ code?: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', () => resolve({ stdout, stderr }));
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
