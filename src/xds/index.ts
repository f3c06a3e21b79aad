// `sergo xds`: an ECDS control plane for the sergo filter. A gRPC xDS server (ADS and ECDS, state of
// the world) serving each Envoy the filter configuration of the app its bootstrap names
// (`sergo/<namespace>/<app>`, src/xds/resource.ts), live: rule files and directories are watched
// (src/serve/watch.ts), a valid edit is translated once and pushed to every subscribed Envoy, an
// invalid one is reported as file:line:col and not pushed (the last good catalog keeps serving).
// Each Envoy's ACK or NACK is tracked per version and shown on the admin listener (/status,
// /stats/prometheus). docs/xds.md.
import { stat } from 'node:fs/promises';
import { DEFAULT_MODULE_PATH, type FailPolicy } from '../emit/wasm-plugin.ts';
import type { RateLimitServiceOptions } from '../ir/deployment.ts';
import type { FilterOptions } from '../ir/model.ts';
import { parseListen } from '../address.ts';
import { createLogger, type Logger, type LogLevel } from '../serve/log.ts';
import { watchFiles, type FileWatcher } from '../serve/watch.ts';
import { startAdmin } from './admin.ts';
import { loadCatalog, type Catalog, type CatalogOptions, type ConfigFile } from './catalog.ts';
import { createXdsMetrics, type ReloadOutcome, type XdsMetrics } from './metrics.ts';
import { nodeStatus, type CatalogError, type XdsStatus } from './status.ts';
import { XdsServer, type Keepalive } from './server.ts';
import type { CatalogSource } from './source.ts';

export { parseResourceName, resourceName, waitingConfig } from './resource.ts';
export type { XdsStatus, NodeStatus } from './status.ts';
export type { CatalogSource } from './source.ts';

export interface XdsOptions {
  /** OpenSergo rule files and directories */
  rules: readonly string[];
  /** HOST:PORT of the gRPC server (port 0: any free port) */
  listen: string;
  /** HOST:PORT of /status, /stats/prometheus, /ready (default 127.0.0.1:9902; port 0: any) */
  admin?: string;
  /** the module's path as Envoy sees it (default /etc/envoy/sergo.wasm) */
  module?: string;
  /** the PluginConfig's failure_policy of what is served (default closed) */
  failPolicy?: FailPolicy;
  /** namespace of objects without metadata.namespace (default `default`) */
  namespace?: string;
  rateLimitService?: RateLimitServiceOptions;
  /** the filter's options of every served configuration (`--max-queued-per-vm`, …) */
  options?: FilterOptions;
  /** filter configurations served as they are, one resource each (`--config sergo/NS/APP=FILE`) */
  configs?: readonly ConfigFile[];
  logLevel?: LogLevel;
  write?: (line: string) => void;
  logger?: Logger;
  /** how dead connections are found (default: pings every 15 s, 5 s to answer) */
  keepalive?: Keepalive;
  /** watch the rules (default true) */
  watch?: boolean;
  /** accept empty rule files, and push an edit that leaves no rule (default: refused, the last catalog keeps serving) */
  allowEmpty?: boolean;
  reloadDebounceMs?: number;
  /**
   * A catalog made by the caller instead of rule files (`sergo controller --xds`); later ones are
   * given to XdsHandle.publish. `rules` is then empty and nothing is watched.
   */
  catalog?: Catalog;
  /**
   * A source that makes its own catalogs (`sergo xds --opensergo`): its current one is served at
   * start, each new one is published; `rules` is then empty and nothing is watched.
   */
  source?: CatalogSource;
}

export interface XdsHandle {
  port: number;
  adminPort: number;
  /** HOST:PORT for `sergo translate --format envoy --xds` */
  address: string;
  adminUrl: string;
  catalog(): Catalog;
  status(): XdsStatus;
  /** /stats/prometheus */
  metricsText(): Promise<string>;
  /** Re-reads the rules now (what a file change does). */
  reload(): Promise<ReloadOutcome>;
  /** Serves this catalog from now on (a fed server, XdsOptions.catalog); pushed where it changed. */
  publish(catalog: Catalog): void;
  close(): Promise<void>;
}

export class XdsError extends Error {}

/** What the server serves now, and the last edit it refused (shown in /status). */
interface Served {
  catalog: Catalog;
  lastError?: CatalogError;
}

export async function startXds(opts: XdsOptions): Promise<XdsHandle> {
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info', opts.write ?? ((l) => void process.stderr.write(l)), 'sergo xds');
  const listen = parseOrThrow(opts.listen, 'listen address');
  const adminAt = parseOrThrow(opts.admin ?? '127.0.0.1:9902', 'admin address');
  if (opts.rules.length === 0 && (opts.configs ?? []).length === 0 && opts.catalog === undefined && opts.source === undefined) throw new XdsError('sergo xds: no rule files or directories (--rules)');
  if (opts.rules.includes('-')) throw new XdsError('sergo xds: --rules -: standard input cannot be watched or read again on SIGHUP; give rule files or directories');
  const catalogOptions: CatalogOptions = { namespace: opts.namespace, rateLimitService: opts.rateLimitService, options: opts.options, configs: opts.configs, allowEmpty: opts.allowEmpty };
  const served: Served = { catalog: await firstCatalog(opts, catalogOptions, logger) };
  let metrics: XdsMetrics | undefined;
  const server = new XdsServer(served.catalog, {
    code: { local: { filename: opts.module ?? DEFAULT_MODULE_PATH } },
    failPolicy: opts.failPolicy ?? 'closed',
    logger,
    metrics: () => metrics!,
    keepalive: opts.keepalive,
  });
  metrics = createXdsMetrics(() => behindByApp(server));
  opts.source?.register?.(metrics.registry);
  const reload = serialized(async () => {
    const outcome = await reloadOnce(opts, catalogOptions, served, server, logger).catch((err: unknown) => {
      logger.error(`reload failed: ${(err as Error).stack ?? String(err)}`);
      return 'invalid' as const;
    });
    metrics!.reloads.inc({ result: outcome });
    return outcome;
  });

  const port = await listening(server, opts.listen, () => server.listen(listen.host, listen.port));
  const status = (): XdsStatus => statusOf(served, server, opts.source);
  const admin = await listening(server, opts.admin, () =>
    startAdmin(adminAt.host, adminAt.port, { status, metrics: () => metrics!.registry.metrics(), contentType: metrics!.registry.contentType }));
  const watcher = await watchRules(opts, served.catalog, reload, logger);
  logger.info(`xDS (ADS, ECDS) on ${listen.host}:${port}; admin on ${adminAt.host}:${admin.port}; catalog ${served.catalog.version} (${describeApps(served.catalog)})`);

  const handle: XdsHandle = {
    port,
    adminPort: admin.port,
    address: `${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`,
    adminUrl: `http://${adminAt.host === '0.0.0.0' ? '127.0.0.1' : adminAt.host}:${admin.port}`,
    catalog: () => served.catalog,
    status,
    metricsText: () => metrics!.registry.metrics(),
    reload,
    publish(next) {
      if (next.version === served.catalog.version) return;
      served.catalog = next;
      logger.info(`catalog ${next.version} (${describeApps(next)})`);
      server.publish(next);
    },
    async close() {
      watcher?.close();
      await opts.source?.close();
      await Promise.all([server.close(), admin.close()]);
    },
  };
  opts.source?.onCatalog((next) => handle.publish(next));
  return handle;
}

/** The catalog to start with: the caller's (a fed server), or the rules' (refused: not started). */
async function firstCatalog(opts: XdsOptions, catalogOptions: CatalogOptions, logger: Logger): Promise<Catalog> {
  if (opts.catalog !== undefined) return opts.catalog;
  if (opts.source !== undefined) return opts.source.current();
  const first = await loadCatalog(opts.rules, catalogOptions);
  for (const w of first.warnings) logger.warn(w);
  if (!first.ok) throw new XdsError(first.errors.join('\n'));
  return first.catalog;
}

/** Reads the rules again; a valid edit that changes something is served and pushed. */
async function reloadOnce(opts: XdsOptions, catalogOptions: CatalogOptions, served: Served, server: XdsServer, logger: Logger): Promise<ReloadOutcome> {
  if (opts.catalog !== undefined || opts.source !== undefined) return 'unchanged';
  const next = await loadCatalog(opts.rules, catalogOptions);
  for (const w of next.warnings) logger.warn(w);
  if (!next.ok) {
    for (const e of next.errors) logger.error(e);
    logger.error(`rules invalid (${next.errors.length} error${next.errors.length === 1 ? '' : 's'}): not pushed; Envoys keep version ${served.catalog.version}`);
    served.lastError = { at: new Date().toISOString(), errors: next.errors };
    return 'invalid';
  }
  // Some rules to none drops every protection at once (a truncated file): only on purpose (issue 12).
  if (next.catalog.apps.size === 0 && served.catalog.apps.size > 0 && opts.allowEmpty !== true) {
    const error = 'the rules now yield no rule for any app: not pushed, it would drop every protection (--allow-empty to push it)';
    logger.error(`${error}; Envoys keep version ${served.catalog.version}`);
    served.lastError = { at: new Date().toISOString(), errors: [error] };
    return 'invalid';
  }
  served.lastError = undefined;
  if (next.catalog.version === served.catalog.version) return 'unchanged';
  served.catalog = next.catalog;
  logger.info(`rules changed: catalog ${next.catalog.version} (${describeApps(next.catalog)})`);
  server.publish(next.catalog);
  return 'applied';
}

/** Starts a listener; when it cannot listen, the gRPC server is closed and sergo xds does not start. */
async function listening<T>(server: XdsServer, address: string | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    await server.close();
    throw new XdsError(`sergo xds: cannot listen on ${address}: ${(err as Error).message}`);
  }
}

function statusOf(served: Served, server: XdsServer, source: CatalogSource | undefined): XdsStatus {
  const { catalog } = served;
  return {
    ...(source === undefined ? {} : { source: { type: source.type, ...source.status() } }),
    catalog: {
      version: catalog.version,
      files: catalog.files,
      apps: [...catalog.apps].map(([resource, a]) => ({ resource, rules: a.config.rules.length })),
      lastError: served.lastError ?? null,
    },
    nodes: server.connected().flatMap((s) => nodeStatus(s, server)),
  };
}

/** Watches the rule files and directories (not a fed server's, which has none). */
async function watchRules(opts: XdsOptions, catalog: Catalog, reload: () => Promise<ReloadOutcome>, logger: Logger): Promise<FileWatcher | undefined> {
  if (!(opts.watch ?? true) || opts.rules.length === 0) return undefined;
  const directories = await directoriesOf(opts.rules);
  return watchFiles(catalog.files, () => void reload(), { debounceMs: opts.reloadDebounceMs ?? 100, directories, onError: (m) => logger.warn(m) });
}

function parseOrThrow(value: string, what: string) {
  try {
    return parseListen(value, what);
  } catch (err) {
    throw new XdsError(`sergo xds: ${(err as Error).message}`);
  }
}

/** One run at a time; calls during a run make one more run after it (the newest files win). */
function serialized<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let again = false;
  return () => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    const loop = async (): Promise<T> => {
      let result: T;
      do {
        again = false;
        result = await run();
      } while (again);
      return result;
    };
    running = loop().finally(() => (running = undefined));
    return running;
  };
}

async function directoriesOf(inputs: readonly string[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const input of inputs) {
    try {
      if ((await stat(input)).isDirectory()) dirs.push(input);
    } catch {
      // a missing file: its directory is watched through the file
    }
  }
  return dirs;
}

function describeApps(catalog: Catalog): string {
  const apps = [...catalog.apps].map(([name, a]) => `${name}: ${a.config.rules.length} rule${a.config.rules.length === 1 ? '' : 's'}`);
  return apps.length === 0 ? 'no rules' : apps.join(', ');
}

function behindByApp(server: XdsServer): Map<string, number> {
  const behind = new Map<string, number>();
  for (const stream of server.connected()) {
    for (const name of stream.names) {
      const late = stream.sent === undefined || stream.acked?.nonce !== stream.sent.nonce;
      behind.set(name, (behind.get(name) ?? 0) + (late ? 1 : 0));
    }
  }
  return behind;
}
