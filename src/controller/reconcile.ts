// One namespace, from the caches: translate its objects (src/controller/translate.ts), hand every
// app's outcome to the xDS feed, and — on the leader only — write what differs from what the API
// server holds:
//   - a WasmPlugin per valid app (created; replaced only when its content changed), none touched
//     for an invalid app (its last good configuration keeps running), deleted when the app's last
//     FaultToleranceRule is gone;
//   - each object's status (only when it would change) and an Event when its verdict changes.
// What was just written is remembered until the cache shows it, so a reconciliation that runs
// before the watch delivers the controller's own write does not write again.
import { stringify as stableJson } from './stable-json.ts';
import type { Logger } from '../serve/log.ts';
import type { Informer } from './informer.ts';
import { APP_LABEL, KINDS, MANAGED_BY, type WatchedKind } from './kinds.ts';
import { describeError, statusOf } from './kube.ts';
import { desiredStatus, eventFor, statusDiffers, type ObjectStatus, type Subject } from './status.ts';
import {
  isRule,
  objectKey,
  translateNamespace,
  wasmPlugin,
  wasmPluginName,
  type AppOutcome,
  type PluginOptions,
  type SourceObject,
  type TranslateOptions,
} from './translate.ts';
import type { Plugin, Writer } from './writes.ts';

export type Cached = Subject & { spec?: unknown; metadata: Subject['metadata'] & { labels?: Record<string, string> } };

export interface ReconcileContext {
  objects: ReadonlyMap<WatchedKind, Informer<Cached>>;
  /** Undefined when WasmPlugins are not written (`--no-wasm-plugins`). */
  plugins?: Informer<Plugin>;
  pluginOptions?: PluginOptions;
  translate: TranslateOptions;
  writer: Writer;
  isLeader(): boolean;
  identity: string;
  logger: Logger;
  digest(text: string): string;
  /** Every app of the namespace and its outcome, after each translation (the xDS feed). */
  onApps(namespace: string, apps: ReadonlyMap<string, AppOutcome>): void;
  memory: WriteMemory;
  /** When this replica last saw an object of the namespace change (epoch ms). */
  changedAt(namespace: string): number | undefined;
  /**
   * A status that reports a problem waits until the namespace has been quiet this long: the watches
   * of different kinds deliver a burst of new objects in any order (and, on a loaded machine,
   * seconds apart), so a rule may arrive before the strategy it refers to, or a strategy before its
   * rule. Statuses without problems, and WasmPlugins, are written at once.
   */
  settleMs: number;
  /** Reconcile the namespace again after `delayMs`. */
  again(namespace: string, delayMs: number): void;
}

/** The controller's own writes that the caches may not show yet. */
export class WriteMemory {
  /** By uid: the status last written. */
  readonly statuses = new Map<string, ObjectStatus>();
  /** By namespace/name: the plugin as written, and the resource version it replaced. */
  readonly plugins = new Map<string, { written: Plugin; replaced?: string }>();

  forgetPlugin(namespace: string, name: string): void {
    this.plugins.delete(`${namespace}/${name}`);
  }
}

export async function reconcileNamespace(ctx: ReconcileContext, namespace: string): Promise<void> {
  const cached = KINDS.flatMap((kind) => ctx.objects.get(kind)!.list(namespace).map((o) => ({ kind, o })));
  const sources = cached.map(({ kind, o }) => toSource(kind, o));
  const translation = translateNamespace(namespace, sources, ctx.translate);
  const apps = new Map(translation.apps);
  if (!ctx.isLeader()) {
    ctx.onApps(namespace, apps);
    return;
  }
  const carriers = ctx.plugins === undefined ? new Map<string, string>() : await writePlugins(ctx, namespace, apps, cached);
  ctx.onApps(namespace, apps);
  const failures: string[] = [];
  let unsettled = 0;
  await inParallel(cached, 8, async ({ kind, o }) => {
    const key = objectKey(toSource(kind, o));
    const app = isRule(toSource(kind, o)) ? appOf(apps, key) : undefined;
    const judgement = { problems: translation.problems.get(key) ?? [], app: app === undefined ? undefined : { ...app, carrier: carriers.get(app.name) } };
    const wait = settling(ctx, o, judgement);
    if (wait > 0) unsettled = Math.max(unsettled, wait);
    else await writeStatus(ctx, kind, o, judgement).catch((err) => failures.push(`${key}: ${describeError(err)}`));
  });
  if (unsettled > 0) ctx.again(namespace, unsettled);
  if (failures.length > 0) throw new Error(`status of ${failures.length} object(s) not written: ${failures.slice(0, 3).join('; ')}`);
}

function appOf(apps: ReadonlyMap<string, AppOutcome>, ruleKey: string): { name: string; outcome: AppOutcome } | undefined {
  for (const [name, outcome] of apps) if (outcome.rules.includes(ruleKey)) return { name, outcome };
  return undefined;
}

function toSource(kind: WatchedKind, o: Cached): SourceObject {
  const { name, namespace, labels } = o.metadata;
  return { apiVersion: `${kind.group}/${kind.version}`, kind: kind.kind, metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) }, spec: o.spec };
}

// ---- statuses and events ----

/** How long to wait before the object's status reports a problem (0: write it now): see settleMs. */
function settling(ctx: ReconcileContext, o: Cached, judgement: Parameters<typeof desiredStatus>[1]): number {
  const failing = judgement.problems.length > 0 || judgement.app?.outcome.ok === false;
  const changed = ctx.changedAt(o.metadata.namespace);
  if (!failing || changed === undefined) return 0;
  return Math.max(0, changed + ctx.settleMs - Date.now());
}

async function writeStatus(ctx: ReconcileContext, kind: WatchedKind, o: Cached, judgement: Parameters<typeof desiredStatus>[1]): Promise<void> {
  const now = new Date();
  const uid = o.metadata.uid;
  const remembered = ctx.memory.statuses.get(uid);
  const current: Subject = remembered === undefined ? o : { ...o, status: remembered };
  const desired = desiredStatus(current, judgement, now);
  if (!statusDiffers(current.status, desired)) return;
  if (!ctx.isLeader()) return;
  await ctx.writer.patchStatus(kind, o.metadata.namespace, o.metadata.name, desired);
  ctx.memory.statuses.set(uid, desired);
  const event = eventFor(current, desired, ctx.identity, now);
  if (event !== undefined) await ctx.writer.event(event);
}

// ---- WasmPlugins ----

/** Writes the plugins of the namespace; returns the name of each app's plugin that exists. */
async function writePlugins(ctx: ReconcileContext, namespace: string, apps: Map<string, AppOutcome>, cached: Array<{ kind: WatchedKind; o: Cached }>): Promise<Map<string, string>> {
  const existing = new Map(ctx.plugins!.list(namespace).map((p) => [p.metadata!.labels?.[APP_LABEL] ?? '', current(ctx, p)]));
  const carriers = new Map<string, string>();
  const uids = new Map(cached.map(({ kind, o }) => [objectKey(toSource(kind, o)), o]));
  for (const [app, outcome] of apps) {
    const name = wasmPluginName(app, ctx.digest);
    const have = existing.get(app) ?? remembered(ctx, namespace, name);
    if (!outcome.ok) {
      if (have !== undefined) carriers.set(app, have.metadata!.name!);
      continue;
    }
    const desired = pluginFor(ctx, name, namespace, app, outcome, uids);
    const refused = await ensurePlugin(ctx, have, desired);
    if (refused === undefined) carriers.set(app, name);
    else apps.set(app, { ok: false, rules: outcome.rules, reason: refused });
  }
  for (const [app, plugin] of existing) {
    if (apps.has(app) || !ctx.isLeader()) continue;
    await ctx.writer.deletePlugin(plugin);
    ctx.memory.forgetPlugin(namespace, plugin.metadata!.name!);
    ctx.logger.info(`${namespace}: app ${app} has no FaultToleranceRule any more: WasmPlugin ${plugin.metadata!.name} deleted`);
  }
  return carriers;
}

/** The cached plugin, or what the controller wrote over it when the cache does not show that yet. */
function current(ctx: ReconcileContext, cached: Plugin): Plugin {
  const key = `${cached.metadata!.namespace}/${cached.metadata!.name}`;
  const mine = ctx.memory.plugins.get(key);
  if (mine === undefined) return cached;
  const rv = cached.metadata!.resourceVersion;
  if (rv === mine.written.metadata!.resourceVersion) ctx.memory.plugins.delete(key); // the cache caught up
  return rv === mine.replaced ? mine.written : cached;
}

function remembered(ctx: ReconcileContext, namespace: string, name: string): Plugin | undefined {
  const mine = ctx.memory.plugins.get(`${namespace}/${name}`);
  return mine?.replaced === undefined ? mine?.written : undefined;
}

function pluginFor(ctx: ReconcileContext, name: string, namespace: string, app: string, outcome: Extract<AppOutcome, { ok: true }>, objects: Map<string, Cached>): Plugin {
  const manifest = wasmPlugin(name, outcome.deployment, ctx.pluginOptions!);
  const owners = outcome.rules
    .map((key) => objects.get(key)!)
    .map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, uid: r.metadata.uid }))
    .sort((a, b) => a.uid.localeCompare(b.uid));
  return {
    ...manifest,
    metadata: { name, namespace, labels: { [MANAGED_BY.key]: MANAGED_BY.value, [APP_LABEL]: app }, ownerReferences: owners },
  } as Plugin;
}

/** Creates or replaces; returns why the plugin cannot be written (another owner's plugin), if so. */
async function ensurePlugin(ctx: ReconcileContext, have: Plugin | undefined, desired: Plugin): Promise<string | undefined> {
  const { name, namespace } = desired.metadata as { name: string; namespace: string };
  const key = `${namespace}/${name}`;
  if (have === undefined) {
    try {
      const written = await ctx.writer.createPlugin(desired);
      ctx.memory.plugins.set(key, { written });
      ctx.logger.info(`${namespace}: WasmPlugin ${name} created`);
      return undefined;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      have = await ctx.writer.getPlugin(namespace, name);
      if (have.metadata?.labels?.[MANAGED_BY.key] !== MANAGED_BY.value) {
        return `WasmPlugin ${name} exists and is not managed by sergo-controller (label ${MANAGED_BY.key}=${MANAGED_BY.value}); rename or delete it`;
      }
    }
  }
  if (!differs(have, desired)) return undefined;
  const written = await ctx.writer.replacePlugin(have, (fresh) => {
    if (fresh.metadata?.labels?.[MANAGED_BY.key] !== MANAGED_BY.value) return undefined;
    return differs(fresh, desired) ? merge(fresh, desired) : undefined;
  });
  if (written !== undefined && written !== have) {
    ctx.memory.plugins.set(key, { written, replaced: have.metadata!.resourceVersion });
    ctx.logger.info(`${namespace}: WasmPlugin ${name} updated`);
  }
  return undefined;
}

function differs(have: Plugin, desired: Plugin): boolean {
  const labels = (p: Plugin) => [p.metadata?.labels?.[MANAGED_BY.key], p.metadata?.labels?.[APP_LABEL]];
  const owners = (p: Plugin) => (p.metadata?.ownerReferences ?? []).map((o) => o.uid).sort();
  return stableJson(have.spec) !== stableJson(desired.spec) || stableJson(labels(have)) !== stableJson(labels(desired)) || stableJson(owners(have)) !== stableJson(owners(desired));
}

function merge(fresh: Plugin, desired: Plugin): Plugin {
  return {
    ...fresh,
    metadata: { ...fresh.metadata, labels: { ...fresh.metadata?.labels, ...desired.metadata!.labels }, ownerReferences: desired.metadata!.ownerReferences },
    spec: desired.spec,
  } as Plugin;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
