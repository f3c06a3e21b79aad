// `sergo serve`: the embedded data plane. A Node HTTP/1.1 reverse proxy that runs build/sergo.wasm
// through src/host as Envoy runs a wasm HTTP filter (filter.ts): N worker VMs (connections spread
// over them like Envoy's workers, proxy.ts), one shared-data store, ticks on real timers, the
// failure policy, proxy_http_call to the rate-limit service (--rls, rls-forward.ts). Rules are
// watched and reloaded (reload.ts); a bad edit is reported and the previous rules keep serving. An
// admin listener serves /stats/prometheus, /stats, /ready (admin.ts). This module wires the parts.
import { statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ProxyWasmHost } from '../host/index.ts';
import { closeNow, listenOn } from '../listen.ts';
import { formatListen } from './address.ts';
import { createAdminServer, type ServePhase } from './admin.ts';
import { BreakerWatcher } from './breakers.ts';
import { newCounters, type ExchangeContext, type ServeCounters } from './exchange.ts';
import { ServedFilter } from './filter.ts';
import { drain } from './lifecycle.ts';
import { createLogger, type Logger } from './log.ts';
import { loadModule, resolveSettings, ServeError, type ServeOptions, type ServeSettings } from './options.ts';
import { createProxyServer } from './proxy.ts';
import { Reloader, type ReloadResult, type ServedRules } from './reload.ts';
import { createRlsForwarder } from './rls-forward.ts';
import { ruleStats, type RuleStats } from './rule-stats.ts';
import { loadConfiguration, sourceFiles, type ServedConfig } from './rules.ts';
import { statSamples, type RlsCallCounts } from './samples.ts';
import { watchFiles } from './watch.ts';

export { LOG_LEVELS, createLogger, type Logger, type LogLevel } from './log.ts';
export { DEFAULT_MODULE, ServeError, type ServeOptions } from './options.ts';
export type { ReloadResult } from './reload.ts';
export type { RuleStats } from './rule-stats.ts';
export type { ServedConfig, ServedRule } from './rules.ts';
export type { BreakerTransition } from './breakers.ts';
export { decodeStatName, renderPrometheus, escapeLabelValue } from './stats.ts';

/** Logged at start: gRPC clients need Envoy (the emitted bootstrap), not this HTTP/1.1 proxy. */
export const GRPC_NOTE = 'HTTP/1.1 only: gRPC needs Envoy (sergo translate --format envoy --upstream-protocol http2)';

/** Logged at start when the rules have TrafficLanes: lanes are coloured and carried, not routed here. */
export const LANE_NOTE = 'TrafficLanes: requests are coloured and carried (lane header and baggage) to the one upstream; sending a lane to its instances needs Envoy (sergo translate --format envoy --endpoints FILE) or Istio (--format istio)';

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

export async function startServe(opts: ServeOptions): Promise<ServeHandle> {
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info', opts.write ?? ((l) => void process.stderr.write(l)));
  const settings = resolveSettings(opts);
  const first = await loadConfiguration(settings.source);
  for (const w of first.warnings) logger.warn(w);
  if (!first.ok) throw new ServeError(first.errors);
  const module = loadModule(opts.module);

  const rules: ServedRules = { config: first.config, json: first.json, generation: 1 };
  const { filter, rls, rlsCalls } = startFilter(opts, settings, module, rules, logger);
  const host = filter.host;
  const breakers = new BreakerWatcher(host, logger, opts.onTransition);
  const exchange = exchangeContext(settings, host, logger, () => breakers.poke(), module);
  const reloader = new Reloader(settings.source, rules, filter, logger);
  const files = sourceFiles(settings.source);
  const watcher = (opts.watch ?? true)
    ? watchFiles(files, () => void reloader.reload(), { debounceMs: opts.reloadDebounceMs, onError: (m) => logger.warn(m), directories: files.filter(isDirectory) })
    : undefined;

  let phase: ServePhase = 'starting';
  const samples = () =>
    statSamples({ host, counters: exchange.counters, generation: rules.generation, vms: settings.vms, reloads: reloader.counts, rlsCalls: rls ? rlsCalls : undefined });
  const admin = createAdminServer({ phase: () => phase, samples, config: () => rules.config });
  const proxy = createProxyServer(exchange, settings.vms);
  const cleanup = () => {
    watcher?.close();
    breakers.close();
    host.close();
    exchange.agent.destroy();
    rls?.close();
  };
  try {
    await listenOn(admin, settings.admin.host, settings.admin.port);
    await listenOn(proxy, settings.listen.host, settings.listen.port);
  } catch (err) {
    admin.close();
    proxy.close();
    cleanup();
    throw new ServeError([`sergo serve: ${(err as Error).message}`]);
  }
  const port = (proxy.address() as AddressInfo).port;
  const adminPort = (admin.address() as AddressInfo).port;
  phase = 'live';
  logger.info(
    `listening on ${formatListen(settings.listen.host, port)} → ${settings.upstream.origin} (${settings.vms} VM${settings.vms === 1 ? '' : 's'}); ` +
      `admin on ${formatListen(settings.admin.host, adminPort)}; ${first.summary} from ${files.join(', ')}`,
  );
  // gRPC is HTTP/2: this proxy speaks HTTP/1.1 only, so say so before a gRPC client finds out.
  logger.info(GRPC_NOTE);
  if (first.config.lanes !== undefined) logger.warn(LANE_NOTE);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      phase = 'draining';
      watcher?.close();
      await drain(proxy, () => exchange.counters.active, opts.shutdownGraceMs ?? 10_000);
      await closeNow(admin);
      await reloader.settled();
      cleanup();
      logger.info('stopped');
    })());

  const loopback = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  return {
    port,
    adminPort,
    url: `http://${formatListen(loopback(settings.listen.host), port)}`,
    adminUrl: `http://${formatListen(loopback(settings.admin.host), adminPort)}`,
    host,
    counters: exchange.counters,
    config: () => rules.config,
    reload: () => reloader.reload(),
    ruleStats: () => ruleStats(rules.config, host),
    close,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The filter with the first configuration, calling the rate-limit service (--rls) through a forwarder. */
function startFilter(opts: ServeOptions, settings: ServeSettings, module: WebAssembly.Module, rules: ServedRules, logger: Logger) {
  const rlsCalls: RlsCallCounts = { ok: 0, error: 0, unknown_cluster: 0 };
  const rls = settings.rls
    ? createRlsForwarder({ url: settings.rls, cluster: () => rules.config.rateLimitService?.cluster, logger, count: (o) => rlsCalls[o]++ })
    : undefined;
  const filter = new ServedFilter({
    module,
    vms: settings.vms,
    configuration: rules.json,
    failPolicy: opts.failPolicy ?? 'closed',
    logLevel: opts.logLevel,
    logger,
    httpCallHandler: rls?.handler,
  });
  const started = filter.start();
  if (!started.ok) {
    filter.host.close();
    rls?.close();
    const why = started.complaints.length ? `: ${started.complaints.join('; ')}` : '';
    throw new ServeError([`sergo serve: the filter refused the configuration${why}`]);
  }
  return { filter, rls, rlsCalls };
}

/** What every exchange needs: the upstream and its agent, the host, serve's counters. */
function exchangeContext(settings: ServeSettings, host: ProxyWasmHost, logger: Logger, activity: () => void, module: WebAssembly.Module): ExchangeContext {
  const client = settings.upstream.protocol === 'https:' ? https : http;
  return {
    host,
    upstream: settings.upstream,
    request: client.request,
    agent: new client.Agent({ keepAlive: true }),
    upstreamTimeoutMs: settings.upstreamTimeoutMs,
    logger,
    counters: newCounters(),
    activity,
    bodyCallbacks: bodyCallbacksOf(module),
  };
}

/** Which body callbacks the module exports: bodies of a direction without one are piped straight
 *  through, as Envoy never calls a callback a module does not export. */
function bodyCallbacksOf(module: WebAssembly.Module): { request: boolean; response: boolean } {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return { request: names.has('proxy_on_request_body'), response: names.has('proxy_on_response_body') };
}
