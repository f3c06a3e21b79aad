// `sergo serve`: the embedded data plane. A Node HTTP/1.1 reverse proxy that runs build/sergo.wasm
// through src/host as Envoy runs a wasm HTTP filter: N worker VMs (connections spread over them like
// Envoy's workers), one shared-data store, ticks on real timers, the failure policy, proxy_http_call
// to the rate-limit service (--rls). Rules are watched and reloaded; a bad edit is reported and the
// previous rules keep serving. An admin listener serves /stats/prometheus, /stats, /ready.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { compileModule, ProxyWasmHost, SystemClock, type LogLevel as GuestLogLevel } from '../host/index.ts';
import { formatListen, parseListen, parseServiceUrl } from './address.ts';
import { BreakerWatcher, type BreakerTransition } from './breakers.ts';
import { Exchange, newCounters, type ExchangeContext, type ServeCounters } from './exchange.ts';
import { createLogger, type Logger, type LogLevel } from './log.ts';
import { createRlsForwarder } from './rls-forward.ts';
import { loadConfiguration, sourceFiles, type RuleSource, type ServedConfig } from './rules.ts';
import { decodeStatName, renderPlain, renderPrometheus, type StatSample } from './stats.ts';
import { watchFiles, type FileWatcher } from './watch.ts';

export { LOG_LEVELS, createLogger, type Logger, type LogLevel } from './log.ts';

/** Logged at start: gRPC clients need Envoy (the emitted bootstrap), not this HTTP/1.1 proxy. */
export const GRPC_NOTE = 'HTTP/1.1 only: gRPC needs Envoy (sergo translate --format envoy --upstream-protocol http2)';
export type { ServedConfig, ServedRule } from './rules.ts';
export type { BreakerTransition } from './breakers.ts';
export { decodeStatName, renderPrometheus, escapeLabelValue } from './stats.ts';

export const DEFAULT_MODULE = fileURLToPath(new URL('../../build/sergo.wasm', import.meta.url));

export interface ServeOptions {
  /** OpenSergo rule files (YAML/JSON); or `config` */
  rules?: readonly string[];
  /** a filter configuration JSON file, as `sergo translate` prints it (instead of `rules`) */
  config?: string;
  /** http://HOST[:PORT] of the service behind the proxy */
  upstream: string;
  /** HOST:PORT, default 0.0.0.0:10000 (port 0: any free port) */
  listen?: string;
  /** HOST:PORT of the admin endpoints, default 127.0.0.1:9901 */
  admin?: string;
  /** worker VMs, default 2 */
  vms?: number;
  app?: string;
  namespace?: string;
  /** error | warn | info | debug, default info */
  logLevel?: LogLevel;
  /** URL of the rate-limit service for limitMode Global rules (HTTP/JSON, e.g. `sergo rls`) */
  rls?: string;
  /** rate-limit domain of Global rules translated from --rules (default sergo) */
  rlsDomain?: string;
  /** deadline of one rate-limit call of Global rules translated from --rules (default 20 ms) */
  rlsTimeoutMs?: number;
  /** upstream request timeout, default 15000 ms (→ 504) */
  upstreamTimeoutMs?: number;
  /** when a VM fails: 'closed' (503, default) or 'open' (skip the filter) */
  failPolicy?: 'open' | 'closed';
  /** the module: a path (default build/sergo.wasm) or a compiled module */
  module?: string | WebAssembly.Module;
  /** watch the rule files and reload on change, default true */
  watch?: boolean;
  reloadDebounceMs?: number;
  /** how long close() waits for requests in flight, default 10000 ms */
  shutdownGraceMs?: number;
  /** where log lines go (default stderr); or pass a whole `logger` */
  write?: (line: string) => void;
  logger?: Logger;
  onTransition?: (t: BreakerTransition) => void;
}

export type ReloadResult = 'applied' | 'unchanged' | 'invalid' | 'refused';

export interface RuleStats {
  id: string;
  resource: string;
  kind: string;
  passed: number;
  blocked: number;
  queued: number;
  /** breakers only */
  breakerState?: 'closed' | 'open' | 'half_open';
}

export interface ServeHandle {
  port: number;
  adminPort: number;
  /** http://host:port of the proxy and of the admin listener (loopback when bound to all interfaces) */
  url: string;
  adminUrl: string;
  host: ProxyWasmHost;
  counters: Readonly<ServeCounters>;
  /** the configuration the filter is running */
  config(): ServedConfig;
  /** re-reads the rules now (what a file change does) */
  reload(): Promise<ReloadResult>;
  /** per rule of the current configuration: the filter's counters and breaker state */
  ruleStats(): RuleStats[];
  /** stops accepting, waits for requests in flight (up to shutdownGraceMs), closes everything */
  close(): Promise<void>;
}

export class ServeError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

// The filter logs at info once per VM and configure ("configuration accepted"): serve's own reload
// line says it once, so the filter's info lines are shown at debug.
const GUEST_LEVEL: Record<GuestLogLevel, LogLevel> = {
  trace: 'debug',
  debug: 'debug',
  info: 'debug',
  warn: 'warn',
  error: 'error',
  critical: 'error',
};

export async function startServe(opts: ServeOptions): Promise<ServeHandle> {
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info', opts.write ?? ((l) => void process.stderr.write(l)));
  const problems: string[] = [];
  const check = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      problems.push(`sergo serve: ${(err as Error).message}`);
      return undefined;
    }
  };
  if ((opts.rules === undefined || opts.rules.length === 0) === (opts.config === undefined)) problems.push('sergo serve: give either rule files (--rules) or a filter configuration (--config)');
  const upstream = check(() => parseServiceUrl(opts.upstream, 'upstream'));
  const listen = check(() => parseListen(opts.listen ?? '0.0.0.0:10000', 'listen address'));
  const adminAt = check(() => parseListen(opts.admin ?? '127.0.0.1:9901', 'admin address'));
  const rlsUrl = opts.rls === undefined ? undefined : check(() => parseServiceUrl(opts.rls!, 'rate-limit service'));
  const vms = opts.vms ?? 2;
  if (!Number.isInteger(vms) || vms < 1 || vms > 256) problems.push(`sergo serve: vms: expected an integer from 1 to 256, got ${vms}`);
  const timeoutMs = opts.upstreamTimeoutMs ?? 15_000;
  if (!(timeoutMs > 0)) problems.push(`sergo serve: upstream timeout: expected a positive number of ms, got ${timeoutMs}`);
  if (problems.length > 0) throw new ServeError(problems);

  const source: RuleSource = {
    rules: opts.rules,
    config: opts.config,
    app: opts.app,
    namespace: opts.namespace,
    rls: rlsUrl,
    rlsDomain: opts.rlsDomain,
    rlsTimeoutMs: opts.rlsTimeoutMs,
  };
  const files = sourceFiles(source);
  const first = await loadConfiguration(source);
  for (const w of first.warnings) logger.warn(w);
  if (!first.ok) throw new ServeError(first.errors);

  let module: WebAssembly.Module;
  const modulePath = typeof opts.module === 'string' ? opts.module : DEFAULT_MODULE;
  if (opts.module !== undefined && typeof opts.module !== 'string') module = opts.module;
  else {
    try {
      module = compileModule(readFileSync(modulePath));
    } catch (err) {
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run `npm run build` first)' : '';
      throw new ServeError([`sergo serve: ${modulePath}: ${(err as Error).message}${hint}`]);
    }
  }

  // --- the host: the filter's log goes to ours; during on_configure it is also kept, to explain a refusal
  let capture: string[] | undefined;
  let current = first.config;
  let currentJson = first.json;
  const counters = newCounters();
  const rlsCalls = { ok: 0, error: 0, unknown_cluster: 0 };
  const rls = rlsUrl
    ? createRlsForwarder({ url: rlsUrl, cluster: () => current.rateLimitService?.cluster, logger, count: (o) => rlsCalls[o]++ })
    : undefined;
  const host = new ProxyWasmHost({
    module,
    vms,
    rootId: 'sergo',
    configuration: first.json,
    clock: new SystemClock(),
    realTimers: true,
    failPolicy: opts.failPolicy ?? 'closed',
    logLevel: opts.logLevel === 'warn' ? 'warn' : opts.logLevel === 'error' ? 'error' : opts.logLevel === 'debug' ? 'debug' : 'info',
    checkHeaders: false,
    maxLogs: 1000,
    httpCallHandler: rls?.handler,
    onLog: (vm, level, message) => {
      // During on_configure the filter's complaints are kept for the one line that reports the
      // reload (every VM says the same); otherwise its log is ours.
      if (capture && (level === 'error' || level === 'critical' || level === 'warn')) {
        if (!capture.includes(message)) capture.push(message);
        return;
      }
      logger[GUEST_LEVEL[level]](`filter (vm ${vm}): ${message}`);
    },
  });
  capture = [];
  const started = host.start();
  const startLog = capture;
  capture = undefined;
  if (!started) {
    host.close();
    rls?.close();
    throw new ServeError([`sergo serve: the filter refused the configuration${startLog.length ? `: ${startLog.join('; ')}` : ''}`]);
  }

  const breakers = new BreakerWatcher(host, logger, opts.onTransition);
  const client = upstream!.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const ctx: ExchangeContext = {
    host,
    upstream: upstream!,
    request: client.request,
    agent,
    upstreamTimeoutMs: timeoutMs,
    logger,
    counters,
    activity: () => breakers.poke(),
    bodyCallbacks: bodyCallbacksOf(module),
  };

  // --- reload
  let generation = 1;
  let lastFailed = false;
  const reloads = { applied: 0, unchanged: 0, invalid: 0, refused: 0 };
  const reloadOnce = async (): Promise<ReloadResult> => {
    const next = await loadConfiguration(source);
    for (const w of next.warnings) logger.warn(w);
    let result: ReloadResult;
    if (!next.ok) {
      for (const e of next.errors) logger.error(e);
      logger.error(`reload failed (${next.errors.length} error${next.errors.length === 1 ? '' : 's'}): still serving the previous rules (generation ${generation})`);
      result = 'invalid';
    } else if (next.json === currentJson) {
      if (lastFailed) logger.info(`rules valid again, configuration unchanged (generation ${generation})`);
      else logger.debug('rules changed on disk, configuration unchanged');
      result = 'unchanged';
    } else {
      capture = [];
      const ok = host.configure(next.json);
      const refusal = capture;
      capture = undefined;
      if (!ok) {
        logger.error(`reload refused by the filter, the previous rules (generation ${generation}) keep serving${refusal.length ? `: ${refusal.join('; ')}` : ''}`);
        result = 'refused';
      } else {
        current = next.config;
        currentJson = next.json;
        generation++;
        logger.info(`reloaded: ${next.summary} (generation ${generation})`);
        result = 'applied';
      }
    }
    lastFailed = result === 'invalid' || result === 'refused';
    reloads[result]++;
    return result;
  };
  let reloading: Promise<ReloadResult> | undefined;
  let again = false;
  const reload = (): Promise<ReloadResult> => {
    if (reloading) {
      again = true;
      return reloading;
    }
    const run = async (): Promise<ReloadResult> => {
      let r: ReloadResult;
      do {
        again = false;
        try {
          r = await reloadOnce();
        } catch (err) {
          logger.error(`reload failed: ${(err as Error).stack ?? String(err)}`);
          r = 'invalid';
        }
      } while (again);
      return r;
    };
    reloading = run().finally(() => (reloading = undefined));
    return reloading;
  };
  let watcher: FileWatcher | undefined;
  if (opts.watch ?? true) {
    watcher = watchFiles(files, () => void reload(), { debounceMs: opts.reloadDebounceMs, onError: (m) => logger.warn(m) });
  }

  // --- stats
  const samples = (): StatSample[] => {
    const out: StatSample[] = [];
    for (const [name, s] of host.metrics()) out.push({ name, type: s.type, value: s.value, count: s.count });
    const c = (name: string, value: number, labels?: Record<string, string>): StatSample => ({ name: `sergo.serve.${name}`, type: 'counter', value: BigInt(value), labels });
    const g = (name: string, value: number): StatSample => ({ name: `sergo.serve.${name}`, type: 'gauge', value: BigInt(value) });
    out.push(
      c('requests_total', counters.requests),
      g('requests_active', counters.active),
      c('local_responses_total', counters.localResponses),
      c('client_aborts_total', counters.clientAborts),
      c('upstream_errors_total', counters.upstreamConnectErrors, { reason: 'connect' }),
      c('upstream_errors_total', counters.upstreamTimeouts, { reason: 'timeout' }),
      c('upstream_errors_total', counters.upstreamResets, { reason: 'reset' }),
      c('internal_errors_total', counters.internalErrors),
      g('config_generation', generation),
      g('vms', vms),
    );
    for (const [result, n] of Object.entries(reloads)) out.push(c('reloads_total', n, { result }));
    if (rls) for (const [outcome, n] of Object.entries(rlsCalls)) out.push(c('rls_calls_total', n, { outcome }));
    return out;
  };

  const ruleStats = (): RuleStats[] => {
    const byId = new Map<string, RuleStats>();
    for (const r of current.rules) {
      byId.set(r.id, { id: r.id, resource: r.resource, kind: r.strategy.kind, passed: 0, blocked: 0, queued: 0 });
    }
    for (const [name, s] of host.metrics()) {
      const d = decodeStatName(name);
      const id = d.labels.find((l) => l[0] === 'sergo_rule')?.[1];
      const r = id === undefined ? undefined : byId.get(id);
      if (!r) continue;
      const v = Number(s.value);
      if (d.name === 'sergo.requests_passed') r.passed = v;
      else if (d.name === 'sergo.requests_blocked') r.blocked = v;
      else if (d.name === 'sergo.requests_queued') r.queued = v;
      else if (d.name === 'sergo.breaker_state') r.breakerState = BREAKER_STATES[v] ?? 'closed';
    }
    for (const r of byId.values()) if (r.kind === 'CircuitBreaker' && r.breakerState === undefined) r.breakerState = 'closed';
    return [...byId.values()];
  };

  // --- listeners
  let ready = false;
  let closing: Promise<void> | undefined;
  const vmOf = new WeakMap<Socket, number>();
  let nextVm = 0;
  const proxy = http.createServer((req, res) => {
    new Exchange(ctx, req, res, vmOf.get(req.socket) ?? 0).start();
  });
  proxy.on('connection', (socket: Socket) => {
    // Envoy hands each accepted connection to one worker; its requests all run on that worker's VM.
    vmOf.set(socket, nextVm);
    nextVm = (nextVm + 1) % vms;
  });
  proxy.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  const admin = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    switch (path) {
      case '/stats/prometheus':
        return send(200, renderPrometheus(samples()), 'text/plain; version=0.0.4; charset=utf-8');
      case '/stats':
        return send(200, renderPlain(samples()));
      case '/ready':
        return ready ? send(200, 'LIVE\n') : send(503, closing ? 'DRAINING\n' : 'PRE_INITIALIZING\n');
      case '/config_dump':
        return send(200, `${JSON.stringify(current, null, 2)}\n`, 'application/json');
      case '/':
        return send(200, 'sergo serve admin\n  /ready\n  /stats\n  /stats/prometheus\n  /config_dump\n');
      default:
        return send(404, 'not found\n');
    }
  });

  const cleanup = () => {
    watcher?.close();
    breakers.close();
    host.close();
    agent.destroy();
    rls?.close();
  };
  try {
    await listenOn(admin, adminAt!.host, adminAt!.port);
    await listenOn(proxy, listen!.host, listen!.port);
  } catch (err) {
    admin.close();
    proxy.close();
    cleanup();
    throw new ServeError([`sergo serve: ${(err as Error).message}`]);
  }
  const port = (proxy.address() as AddressInfo).port;
  const adminPort = (admin.address() as AddressInfo).port;
  ready = true;
  logger.info(
    `listening on ${formatListen(listen!.host, port)} → ${upstream!.origin} (${vms} VM${vms === 1 ? '' : 's'}); ` +
      `admin on ${formatListen(adminAt!.host, adminPort)}; ${first.summary} from ${files.join(', ')}`,
  );
  // gRPC is HTTP/2: this proxy speaks HTTP/1.1 only, so say so before a gRPC client finds out.
  logger.info(GRPC_NOTE);

  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      watcher?.close();
      proxy.close();
      const deadline = Date.now() + (opts.shutdownGraceMs ?? 10_000);
      while (counters.active > 0 && Date.now() < deadline) {
        proxy.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 20));
      }
      proxy.closeAllConnections();
      await new Promise<void>((r) => {
        admin.close(() => r());
        admin.closeAllConnections();
      });
      if (reloading) await reloading.catch(() => undefined);
      cleanup();
      logger.info('stopped');
    })();
    return closing;
  };

  const loopback = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  return {
    port,
    adminPort,
    url: `http://${formatListen(loopback(listen!.host), port)}`,
    adminUrl: `http://${formatListen(loopback(adminAt!.host), adminPort)}`,
    host,
    counters,
    config: () => current,
    reload,
    ruleStats,
    close,
  };
}

function listenOn(server: http.Server, host: string, port: number): Promise<void> {
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

/** Which body callbacks the module exports: bodies of a direction without one are piped straight
 *  through, as Envoy never calls a callback a module does not export. */
function bodyCallbacksOf(module: WebAssembly.Module): { request: boolean; response: boolean } {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return { request: names.has('proxy_on_request_body'), response: names.has('proxy_on_response_body') };
}
