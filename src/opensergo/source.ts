// `sergo xds --opensergo HOST:PORT`: the OpenSergo control plane as the source of the catalog. The
// client (src/opensergo/client.ts) subscribes every --app to every kind; each push is checked
// against the kind's version (an outdated one is dropped, as the SDKs drop it), decoded, rebuilt
// into OpenSergo objects and, with the app's objects of the other kinds, translated as YAML input
// is. What becomes a valid configuration is ACKed and served; what does not is NACKed with the
// reason, and the app keeps its last good configuration. Versions are forgotten on every new
// stream (a restarted control plane counts from 1 again); the objects are kept, so the rules keep
// being enforced while the control plane is away. docs/opensergo.md.
import type { Registry } from 'prom-client';
import type { FailPolicy } from '../emit/wasm-plugin.ts';
import type { Logger } from '../serve/log.ts';
import type { AppConfig, Catalog } from '../xds/catalog.ts';
import { digest, resourceName, waitingConfig } from '../xds/resource.ts';
import type { CatalogSource } from '../xds/source.ts';
import type { BackoffOptions } from './backoff.ts';
import { CODE_ERROR_UNKNOWN, CODE_SUCCESS, CODE_VERSION_OUTDATED, OpenSergoClient, type Answer } from './client.ts';
import { decodePayloads } from './decode.ts';
import { processIdentifier } from './identifier.ts';
import { BARE_KINDS, bareKind, SUBSCRIBED_KINDS, type BareKind } from './kinds.ts';
import { registerSourceMetrics, type PushAnswer, type SourceMetrics } from './metrics.ts';
import type { WireSubscribeResponse } from './protos.ts';
import type { AppState, KindState } from './app-state.ts';
import { appStatus, type Counters, type PushRecord } from './status.ts';
import { buildApp, type BuildOptions } from './to-ir.ts';
import { rebuildObjects } from './to-objects.ts';

export interface OpenSergoOptions extends BuildOptions {
  /** HOST:PORT of the control plane */
  address: string;
  namespace: string;
  apps: readonly string[];
  /** what an app runs before its first valid configuration: closed answers 503, open runs no rule */
  failPolicy?: FailPolicy;
  backoff?: BackoffOptions;
  /** after subscribing, how long a kind may stay silent before it counts as having no objects (default 1 s) */
  settleMs?: number;
  identifier?: string;
  logger: Logger;
}

export class OpenSergoSource implements CatalogSource {
  readonly type = 'opensergo';
  readonly client: OpenSergoClient;
  private readonly apps = new Map<string, AppState>();
  private readonly listeners: Array<(catalog: Catalog) => void> = [];
  private readonly warned = new Set<string>();
  private readonly counters: Counters = { pushes: 0, acks: 0, nacks: 0, outdated: 0 };
  private lastNack: PushRecord | undefined;
  private lastReply: PushRecord | undefined;
  private catalog: Catalog;
  private synced = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private metrics: SourceMetrics | undefined;

  constructor(private readonly options: OpenSergoOptions) {
    for (const app of [...new Set(options.apps)].sort()) {
      const key = { namespace: options.namespace, app };
      const kinds = new Map(BARE_KINDS.map((k) => [k, { version: undefined, objects: [], receivedAt: undefined } as KindState]));
      this.apps.set(resourceName(key), { key, kinds, good: undefined, lastError: undefined });
    }
    this.catalog = this.render();
    this.client = new OpenSergoClient({
      address: options.address,
      targets: [...this.apps.values()].map((a) => a.key),
      kinds: SUBSCRIBED_KINDS,
      identifier: options.identifier ?? processIdentifier(),
      backoff: options.backoff,
      logger: options.logger,
      events: {
        connected: (stream) => this.connected(stream),
        disconnected: () => undefined,
        push: (push) => this.push(push),
        reply: (message) => this.reply(message),
      },
    });
  }

  start(): void {
    this.client.start();
  }

  current(): Catalog {
    return this.catalog;
  }

  onCatalog(listener: (catalog: Catalog) => void): void {
    this.listeners.push(listener);
    listener(this.catalog);
  }

  status(): Record<string, unknown> {
    const c = this.client;
    const at = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      controlPlane: {
        address: this.options.address, state: c.state, identifier: c.streams === 0 ? null : c.identifier(), controlPlane: c.controlPlane ?? null,
        streams: c.streams, connectedAt: at(c.connectedAt), nextAttemptAt: at(c.nextAttemptAt),
        lastError: c.lastError === undefined ? null : { message: c.lastError.message, at: at(c.lastError.at) },
      },
      synced: this.synced,
      pushes: { ...this.counters },
      lastNack: this.lastNack ?? null,
      lastReply: this.lastReply ?? null,
      apps: [...this.apps.values()].map((a) => appStatus(a)),
    };
  }

  register(registry: Registry): void {
    this.metrics = registerSourceMetrics(registry, this.client);
  }

  async close(): Promise<void> {
    clearTimeout(this.settleTimer);
    await this.client.close();
  }

  // ---- client events ----

  private connected(stream: number): void {
    for (const app of this.apps.values()) for (const kind of app.kinds.values()) kind.version = undefined;
    if (stream > 1) this.options.logger.info(`stream ${stream}: versions forgotten (a restarted control plane counts from 1 again); subscribed again`);
    if (!this.synced && this.settleTimer === undefined) this.settleTimer = setTimeout(() => this.sync('settled'), this.options.settleMs ?? 1_000);
  }

  private push(push: WireSubscribeResponse): Answer {
    this.counters.pushes++;
    const kind = bareKind(push.kind);
    const app = this.apps.get(resourceName({ namespace: push.namespace, app: push.app }));
    if (kind === undefined) return this.nack(push, `unrecognized kind "${push.kind}": sergo subscribes to ${SUBSCRIBED_KINDS.join(', ')}`);
    if (app === undefined) return this.nack(push, `namespace ${push.namespace} app ${push.app} is not subscribed`);
    if (push.dataWithVersion === null) return this.nack(push, 'the push has no dataWithVersion (an empty list of objects is an empty data list)');
    const state = app.kinds.get(kind)!;
    const version = push.dataWithVersion.version;
    if (state.version !== undefined && version < state.version) {
      this.counters.outdated++;
      this.count(push, 'outdated');
      this.options.logger.info(`${describe(push)}: version ${version} is older than ${state.version}: dropped (outdated)`);
      return { ack: 'ACK', code: CODE_VERSION_OUTDATED, message: 'outdated version' };
    }
    const decoded = decodePayloads(kind, push.dataWithVersion.data);
    if (!decoded.ok) return this.nack(push, decoded.reason);
    const rebuilt = rebuildObjects(kind, decoded.payloads, app.key);
    if (rebuilt.errors.length > 0) return this.nack(push, rebuilt.errors.join('; '));
    this.warnOnce(rebuilt.losses);
    // Kept even when the app cannot be built from it: it is the control plane's state, which a later
    // push (of another kind) may complete.
    Object.assign(state, { version, objects: rebuilt.objects, receivedAt: Date.now() });
    if (!this.synced) {
      if ([...this.apps.values()].every((a) => [...a.kinds.values()].every((k) => k.receivedAt !== undefined))) this.sync('every kind answered');
      return this.ack(push);
    }
    const errors = this.rebuild(app);
    return errors.length === 0 ? this.ack(push) : this.nack(push, errors.join('; '));
  }

  private reply(message: WireSubscribeResponse): void {
    this.lastReply = record(message, message.status?.message ?? '');
    const log = message.status?.code === CODE_SUCCESS ? this.options.logger.debug : this.options.logger.warn;
    log(`the control plane answered ${describe(message)}: ${message.ack === '' ? '' : `${message.ack} `}code ${message.status?.code ?? '?'} ${message.status?.message ?? ''}`.trimEnd());
  }

  // ---- building ----

  /** The first full picture: every app built from what arrived (a silent kind has no objects). */
  private sync(why: string): void {
    if (this.synced) return;
    this.synced = true;
    clearTimeout(this.settleTimer);
    this.options.logger.info(`OpenSergo subscriptions settled (${why})`);
    for (const app of this.apps.values()) this.rebuild(app);
    this.publish();
  }

  /** Builds the app from its objects; a valid result is served. Returns the errors (none: served). */
  private rebuild(app: AppState): string[] {
    const objects = BARE_KINDS.flatMap((k) => app.kinds.get(k)!.objects);
    const built = buildApp(app.key, objects, { rateLimitService: this.options.rateLimitService, options: this.options.options });
    this.warnOnce(built.warnings);
    if (!built.ok) {
      app.lastError = { at: Date.now(), errors: built.errors };
      for (const e of built.errors) this.options.logger.error(`${resourceName(app.key)}: ${e}`);
      this.options.logger.error(`${resourceName(app.key)}: not applied; its Envoys keep ${app.good === undefined ? 'the configuration they run' : 'the last good configuration'}`);
      return built.errors;
    }
    app.lastError = undefined;
    app.good = built.app;
    this.publish();
    return [];
  }

  private publish(): void {
    if (!this.synced) return;
    const next = this.render();
    if (next.version === this.catalog.version) return;
    this.catalog = next;
    for (const listener of this.listeners) listener(next);
  }

  /** Every app's last good configuration; before its first, what the fail policy says. */
  private render(): Catalog {
    const apps = new Map<string, AppConfig>();
    for (const [name, app] of this.apps) {
      apps.set(name, app.good ?? { key: app.key, config: waitingConfig(this.options.failPolicy ?? 'closed'), shared: [] });
    }
    return { apps, files: [], version: digest(JSON.stringify([...apps].map(([name, a]) => [name, a.config]))) };
  }

  // ---- answers ----

  private ack(push: WireSubscribeResponse): Answer {
    this.counters.acks++;
    this.count(push, 'applied');
    this.options.logger.debug(`${describe(push)} version ${push.dataWithVersion?.version ?? 0}: applied (ACK)`);
    return { ack: 'ACK', code: CODE_SUCCESS, message: '' };
  }

  private nack(push: WireSubscribeResponse, reason: string): Answer {
    this.counters.nacks++;
    this.count(push, 'refused');
    this.lastNack = record(push, reason);
    this.options.logger.error(`${describe(push)} version ${push.dataWithVersion?.version ?? 0} refused (NACK): ${reason}`);
    return { ack: 'NACK', code: CODE_ERROR_UNKNOWN, message: reason };
  }

  private count(push: WireSubscribeResponse, answer: PushAnswer): void {
    this.metrics?.pushes.inc({ kind: bareKind(push.kind) ?? 'unknown', answer });
  }

  private warnOnce(lines: readonly string[]): void {
    for (const line of lines) {
      if (this.warned.has(line)) continue;
      this.warned.add(line);
      this.options.logger.warn(line);
    }
  }
}

function describe(m: WireSubscribeResponse): string {
  return `${m.kind || '(no kind)'} of ${m.namespace || '(no namespace)'}/${m.app || '(no app)'}`;
}

function record(m: WireSubscribeResponse, reason: string): PushRecord {
  return {
    at: new Date().toISOString(), namespace: m.namespace, app: m.app, kind: m.kind,
    version: m.dataWithVersion?.version ?? null, responseId: m.response_id, code: m.status?.code ?? null, reason,
  };
}
