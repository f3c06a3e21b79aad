// Every write the controller makes, paced by one token bucket (`--qps`, `--burst`) so that a
// thousand changed objects never become a burst the API server has to shed, and counted. Only the
// leader writes (the caller checks before each write).
//   - WasmPlugins: created, replaced (optimistic concurrency: the cached resourceVersion; a 409 is
//     retried on a fresh read, up to 5 times) or deleted (precondition: the uid it was read with).
//   - Status: a JSON merge patch of the status subresource (the controller owns status entirely).
//   - Events: created (core/v1, what `kubectl describe` shows).
import { PatchStrategy, setHeaderOptions, type CoreV1Event, type KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { statusOf, type Kube } from './kube.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WASM_PLUGIN, type WatchedKind } from './kinds.ts';

const CONFLICT_ATTEMPTS = 5;

export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number, private readonly burst: number) {
    this.tokens = burst;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
    }
  }
}

export type Plugin = KubernetesObject & { spec?: unknown };

export class Writer {
  constructor(private readonly kube: Kube, private readonly bucket: TokenBucket, private readonly metrics: ControllerMetrics) {}

  private async paced<T>(resource: string, verb: string, call: () => Promise<T>): Promise<T> {
    await this.bucket.take();
    this.metrics.writes.inc({ resource, verb });
    return call();
  }

  createPlugin(body: Plugin): Promise<Plugin> {
    const namespace = body.metadata!.namespace!;
    return this.paced('wasmplugins', 'create', () => this.kube.custom.createNamespacedCustomObject({ ...gvp(WASM_PLUGIN), namespace, body }) as Promise<Plugin>);
  }

  getPlugin(namespace: string, name: string): Promise<Plugin> {
    return this.kube.custom.getNamespacedCustomObject({ ...gvp(WASM_PLUGIN), namespace, name }) as Promise<Plugin>;
  }

  /**
   * Replaces the plugin with `desired(current)` (undefined: nothing to do), starting from `cached`;
   * a 409 Conflict re-reads it and tries again.
   */
  async replacePlugin(cached: Plugin, desired: (current: Plugin) => Plugin | undefined): Promise<Plugin | undefined> {
    const { name, namespace } = cached.metadata as { name: string; namespace: string };
    let current = cached;
    for (let attempt = 1; ; attempt++) {
      const body = desired(current);
      if (body === undefined) return current;
      try {
        return (await this.paced('wasmplugins', 'update', () => this.kube.custom.replaceNamespacedCustomObject({ ...gvp(WASM_PLUGIN), namespace, name, body }))) as Plugin;
      } catch (err) {
        if (statusOf(err) !== 409 || attempt >= CONFLICT_ATTEMPTS) throw err;
        this.metrics.conflicts.inc({ resource: 'wasmplugins' });
        current = (await this.kube.custom.getNamespacedCustomObject({ ...gvp(WASM_PLUGIN), namespace, name })) as Plugin;
      }
    }
  }

  async deletePlugin(plugin: Plugin): Promise<void> {
    const { name, namespace, uid } = plugin.metadata as { name: string; namespace: string; uid: string };
    try {
      await this.paced('wasmplugins', 'delete', () => this.kube.custom.deleteNamespacedCustomObject({ ...gvp(WASM_PLUGIN), namespace, name, body: { preconditions: { uid } } }));
    } catch (err) {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err; // gone already, or another object by now
    }
  }

  async patchStatus(kind: WatchedKind, namespace: string, name: string, status: unknown): Promise<void> {
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      await this.paced(`${kind.plural}/status`, 'patch', () =>
        this.kube.custom.patchNamespacedCustomObjectStatus({ ...gvp(kind), namespace, name, body: { status } }, options));
    } catch (err) {
      if (statusOf(err) !== 404) throw err; // deleted meanwhile
    }
  }

  async event(body: CoreV1Event): Promise<void> {
    const namespace = body.metadata!.namespace!;
    try {
      await this.paced('events', 'create', () => this.kube.core.createNamespacedEvent({ namespace, body }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err; // the namespace is gone
    }
  }
}

function gvp(kind: WatchedKind): { group: string; version: string; plural: string } {
  return { group: kind.group, version: kind.version, plural: kind.plural };
}
