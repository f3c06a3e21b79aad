// `sergo controller`: OpenSergo custom resources in a Kubernetes cluster → an Istio WasmPlugin per
// app (and, with --xds, the same configuration over ECDS to plain Envoys). docs/controller.md.
//
// The controller watches the OpenSergo kinds (all namespaces, or one) and its own WasmPlugins,
// reconciles a namespace from the caches whenever one of its objects changes (src/controller/
// reconcile.ts), writes only on the leader (a Lease, src/controller/leader.ts), and paces every
// write. A steady state costs no API request but the leader's lease renewals.
import { randomUUID, createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger, type LogLevel } from '../serve/log.ts';
import { packageVersion } from '../version.ts';
import { startAdmin, type AdminServer } from './admin.ts';
import { Informer } from './informer.ts';
import { collectionPath, KINDS, MANAGED_BY, WASM_PLUGIN, type WatchedKind } from './kinds.ts';
import { connect, type Kube } from './kube.ts';
import { LeaderElector } from './leader.ts';
import { createMetrics, type ControllerMetrics } from './metrics.ts';
import { NamespaceQueue } from './queue.ts';
import { reconcileNamespace, WriteMemory, type Cached, type ReconcileContext } from './reconcile.ts';
import type { AppOutcome, PluginOptions, TranslateOptions } from './translate.ts';
import { TokenBucket, Writer, type Plugin } from './writes.ts';
import { XdsFeed, type XdsFeedOptions } from './xds.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewEveryMs: number;
  renewDeadlineMs: number;
}

export interface ControllerOptions {
  kubeconfig?: string;
  context?: string;
  /** Watch this namespace only (default: all). */
  namespace?: string;
  /** How WasmPlugins are written; undefined: none (an --xds-only controller). */
  plugin?: PluginOptions;
  xds?: Omit<XdsFeedOptions, 'logger'>;
  translate?: Partial<TranslateOptions>;
  /** false: this replica always writes (a single replica). */
  leaderElection: LeaderElectionOptions | false;
  identity?: string;
  /** Writes per second, and how many may go at once after a quiet spell. */
  qps?: number;
  burst?: number;
  /** HOST:PORT of /metrics, /healthz, /readyz, /status; undefined: none. */
  admin?: string;
  debounceMs?: number;
  /** How long a just-changed object with problems waits before its status says so (default 2000 ms). */
  settleMs?: number;
  logLevel?: LogLevel;
  write?: (line: string) => void;
  logger?: Logger;
}

export interface ControllerStatus {
  identity: string;
  leader: boolean;
  synced: boolean;
  apps: Array<{ namespace: string; app: string; state: 'valid' | 'invalid'; rules: number; reason?: string }>;
}

export interface ControllerHandle {
  identity: string;
  isLeader(): boolean;
  metrics: ControllerMetrics;
  /** Resolves once every watched collection has been listed. */
  synced: Promise<void>;
  /** Resolves when no reconciliation is pending or running. */
  idle(): Promise<void>;
  status(): ControllerStatus;
  adminPort?: number;
  xds?: XdsFeed;
  close(): Promise<void>;
}

export const DEFAULT_LEASE = { name: 'sergo-controller', leaseDurationMs: 15_000, renewEveryMs: 5_000, renewDeadlineMs: 10_000 };

export async function startController(options: ControllerOptions): Promise<ControllerHandle> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info', options.write ?? ((l) => void process.stderr.write(l)), 'sergo controller');
  const identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const metrics = createMetrics();
  const kube = connect({
    kubeconfig: options.kubeconfig,
    context: options.context,
    userAgent: `sergo-controller/${packageVersion()} (${identity})`,
    observer: (verb, resource) => metrics.requests.inc({ verb, resource }),
  });
  const xds = options.xds === undefined ? undefined : await XdsFeed.start({ ...options.xds, logger });
  const controller = new Controller(kube, options, identity, metrics, logger, xds);
  controller.start();
  const status = () => controller.status();
  let admin: AdminServer | undefined;
  if (options.admin !== undefined) {
    admin = await startAdmin(options.admin, { metrics: () => metrics.registry.metrics(), contentType: metrics.registry.contentType, status, ready: () => controller.synced });
  }
  return {
    identity,
    isLeader: () => controller.isLeader(),
    metrics,
    synced: controller.allSynced,
    idle: () => controller.idle(),
    status,
    adminPort: admin?.port,
    xds,
    async close() {
      await controller.close();
      await Promise.all([admin?.close(), xds?.close()]);
    },
  };
}

/** The informers, the queue, the leader election and what they share. */
class Controller {
  private readonly objects: Map<WatchedKind, Informer<Cached>>;
  private readonly plugins: Informer<Plugin> | undefined;
  private readonly outcomes = new Map<string, ReadonlyMap<string, AppOutcome>>();
  /** By namespace: when an object in it last changed (a new generation or labels, an addition, a deletion; after the first sync). */
  private readonly changes = new Map<string, number>();
  private readonly ctx: ReconcileContext;
  private readonly queue: NamespaceQueue;
  private elector: LeaderElector | undefined;
  synced = false;
  allSynced!: Promise<void>;

  constructor(
    private readonly kube: Kube,
    private readonly options: ControllerOptions,
    private readonly identity: string,
    private readonly metrics: ControllerMetrics,
    private readonly logger: Logger,
    xds: XdsFeed | undefined,
  ) {
    this.objects = new Map(KINDS.map((kind) => [kind, objectInformer(kube, kind, options.namespace, metrics, logger)]));
    this.plugins = options.plugin === undefined ? undefined : pluginInformer(kube, options.namespace, metrics, logger);
    this.ctx = this.context(xds);
    this.queue = new NamespaceQueue((namespace) => this.reconcile(namespace), { debounceMs: options.debounceMs ?? 50, concurrency: 4 });
  }

  isLeader(): boolean {
    return this.options.leaderElection === false || this.elector?.isLeader === true;
  }

  start(): void {
    this.wireEvents();
    const informers = this.informers();
    for (const informer of informers) informer.start();
    this.allSynced = Promise.all(informers.map((i) => i.synced)).then(() => {
      this.synced = true;
      const where = this.options.namespace === undefined ? 'all namespaces' : `namespace ${this.options.namespace}`;
      this.logger.info(`watching ${where}: ${this.objects.size} OpenSergo kinds${this.plugins === undefined ? '' : ' and WasmPlugins'}`);
      this.enqueueAll();
    });
    if (this.options.leaderElection === false) {
      this.metrics.leader.set(1);
      return;
    }
    this.elector = new LeaderElector(this.kube, { ...this.options.leaderElection, identity: this.identity }, {
      started: () => void this.allSynced.then(() => this.enqueueAll()),
      stopped: () => undefined,
    }, this.metrics, this.logger);
    void this.elector.start();
  }

  idle(): Promise<void> {
    return this.allSynced.then(() => this.queue.idle());
  }

  status(): ControllerStatus {
    return { identity: this.identity, leader: this.isLeader(), synced: this.synced, apps: appsOf(this.outcomes) };
  }

  async close(): Promise<void> {
    this.queue.close();
    await this.elector?.close();
    for (const informer of this.informers()) informer.stop();
  }

  private informers(): Array<Informer<Cached> | Informer<Plugin>> {
    return [...this.objects.values(), ...(this.plugins === undefined ? [] : [this.plugins])];
  }

  private context(xds: XdsFeed | undefined): ReconcileContext {
    const { options } = this;
    return {
      objects: this.objects,
      plugins: this.plugins,
      pluginOptions: options.plugin,
      translate: {
        allowGlobalToLocal: options.plugin === undefined && xds !== undefined,
        // WasmPlugins name Istio's cluster of the service (--rls); plain Envoys define sergo_rls themselves.
        rateLimitServiceGiven: options.plugin === undefined ? undefined : options.translate?.rateLimitService?.cluster !== undefined,
        ...options.translate,
      },
      writer: new Writer(this.kube, new TokenBucket(options.qps ?? 50, options.burst ?? 100), this.metrics),
      isLeader: () => this.isLeader(),
      identity: this.identity,
      logger: this.logger,
      digest: (text) => createHash('sha256').update(text).digest('hex'),
      onApps: (namespace, apps) => {
        if (apps.size === 0) this.outcomes.delete(namespace);
        else this.outcomes.set(namespace, apps);
        updateAppGauge(this.metrics, this.outcomes);
        xds?.update(namespace, apps);
      },
      memory: new WriteMemory(),
      changedAt: (namespace) => this.changes.get(namespace),
      settleMs: options.settleMs ?? 2000,
      again: (namespace, delayMs) => this.queue.add(namespace, delayMs),
    };
  }

  private async reconcile(namespace: string): Promise<void> {
    try {
      await reconcileNamespace(this.ctx, namespace);
      this.metrics.reconciles.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.reconciles.inc({ result: 'error' });
      this.logger.warn(`${namespace}: ${(err as Error).message}; retrying`);
      throw err;
    }
  }

  private enqueue(namespace: string | undefined): void {
    if (this.synced && namespace !== undefined) this.queue.add(namespace);
  }

  private enqueueAll(): void {
    for (const ns of namespacesOf(this.objects, this.plugins)) this.queue.add(ns);
  }

  private wireEvents(): void {
    const changed = (o: Cached) => {
      if (this.synced) this.changes.set(o.metadata.namespace, Date.now());
      this.enqueue(o.metadata.namespace);
    };
    wireObjectEvents(this.objects, this.ctx.memory, changed, changed);
    wirePluginEvents(this.plugins, this.ctx.memory, (ns) => this.enqueue(ns));
  }
}

function objectInformer(kube: Kube, kind: WatchedKind, namespace: string | undefined, metrics: ControllerMetrics, logger: Logger): Informer<Cached> {
  const { group, version, plural } = kind;
  return new Informer<Cached>(kube, {
    path: collectionPath(kind, namespace),
    resource: plural,
    list: (cont, limit) =>
      (namespace === undefined
        ? kube.custom.listClusterCustomObject({ group, version, plural, _continue: cont, limit })
        : kube.custom.listNamespacedCustomObject({ group, version, namespace, plural, _continue: cont, limit })) as never,
  }, metrics, logger);
}

function pluginInformer(kube: Kube, namespace: string | undefined, metrics: ControllerMetrics, logger: Logger): Informer<Plugin> {
  const { group, version, plural } = WASM_PLUGIN;
  const labelSelector = `${MANAGED_BY.key}=${MANAGED_BY.value}`;
  return new Informer<Plugin>(kube, {
    path: collectionPath(WASM_PLUGIN, namespace),
    resource: plural,
    labelSelector,
    list: (cont, limit) =>
      (namespace === undefined
        ? kube.custom.listClusterCustomObject({ group, version, plural, labelSelector, _continue: cont, limit })
        : kube.custom.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector, _continue: cont, limit })) as never,
  }, metrics, logger);
}

/** Changes that matter: a new generation (spec) or other labels; status-only updates are the controller's own. */
function wireObjectEvents(objects: Map<WatchedKind, Informer<Cached>>, memory: WriteMemory, changed: (o: Cached) => void, deleted: (o: Cached) => void): void {
  const seen = new Map<string, string>();
  const signature = (o: Cached) => `${o.metadata.generation ?? 0}|${JSON.stringify(o.metadata.labels ?? {})}`;
  for (const informer of objects.values()) {
    informer.on('add', (o) => {
      seen.set(o.metadata.uid, signature(o));
      changed(o);
    });
    informer.on('update', (o) => {
      const s = signature(o);
      if (seen.get(o.metadata.uid) === s) return;
      seen.set(o.metadata.uid, s);
      changed(o);
    });
    informer.on('delete', (o) => {
      seen.delete(o.metadata.uid);
      memory.statuses.delete(o.metadata.uid);
      deleted(o);
    });
  }
}

function wirePluginEvents(plugins: Informer<Plugin> | undefined, memory: WriteMemory, enqueue: (ns: string | undefined) => void): void {
  if (plugins === undefined) return;
  const changed = (p: KubernetesObject) => enqueue(p.metadata?.namespace);
  plugins.on('add', changed);
  plugins.on('update', changed);
  plugins.on('delete', (p) => {
    memory.forgetPlugin(p.metadata!.namespace!, p.metadata!.name!);
    changed(p);
  });
}

function namespacesOf(objects: Map<WatchedKind, Informer<Cached>>, plugins: Informer<Plugin> | undefined): Set<string> {
  const namespaces = new Set<string>();
  for (const informer of objects.values()) for (const o of informer.list()) namespaces.add(o.metadata.namespace);
  for (const p of plugins?.list() ?? []) namespaces.add(p.metadata!.namespace!);
  return namespaces;
}

function appsOf(outcomes: Map<string, ReadonlyMap<string, AppOutcome>>): ControllerStatus['apps'] {
  return [...outcomes].sort(([a], [b]) => a.localeCompare(b)).flatMap(([namespace, apps]) =>
    [...apps].sort(([a], [b]) => a.localeCompare(b)).map(([app, o]) => ({
      namespace,
      app,
      state: o.ok ? ('valid' as const) : ('invalid' as const),
      rules: o.rules.length,
      ...(o.ok ? {} : { reason: o.reason }),
    })));
}

function updateAppGauge(metrics: ControllerMetrics, outcomes: Map<string, ReadonlyMap<string, AppOutcome>>): void {
  const counts = { valid: 0, invalid: 0 };
  for (const apps of outcomes.values()) for (const o of apps.values()) counts[o.ok ? 'valid' : 'invalid']++;
  metrics.apps.set({ state: 'valid' }, counts.valid);
  metrics.apps.set({ state: 'invalid' }, counts.invalid);
}
