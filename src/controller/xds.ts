// `sergo controller --xds HOST:PORT`: the apps' configurations served to plain Envoys by an
// embedded `sergo xds` (src/xds, docs/xds.md), fed with the controller's translations instead of
// rule files. Every replica serves (no writes are involved); an invalid app keeps serving its last
// good configuration; an app whose last rule is gone is served no rules (as sergo xds serves an
// app it does not know).
import { createHash } from 'node:crypto';
import type { Logger } from '../serve/log.ts';
import type { AppConfig, Catalog } from '../xds/catalog.ts';
import { resourceName, startXds, type XdsHandle } from '../xds/index.ts';
import type { AppOutcome } from './translate.ts';

export interface XdsFeedOptions {
  listen: string;
  admin: string;
  /** The module's path as the Envoys see it. */
  module?: string;
  failPolicy?: 'open' | 'closed';
  logger: Logger;
}

export class XdsFeed {
  /** By namespace: each app's last good configuration. */
  private readonly good = new Map<string, Map<string, AppConfig>>();

  private constructor(readonly handle: XdsHandle) {}

  static async start(options: XdsFeedOptions): Promise<XdsFeed> {
    const handle = await startXds({
      rules: [],
      catalog: { apps: new Map(), files: [], version: digest('[]') },
      listen: options.listen,
      admin: options.admin,
      module: options.module,
      failPolicy: options.failPolicy,
      logger: options.logger,
    });
    return new XdsFeed(handle);
  }

  /** The namespace's apps after a translation: valid ones replace their last good configuration. */
  update(namespace: string, apps: ReadonlyMap<string, AppOutcome>): void {
    const previous = this.good.get(namespace) ?? new Map<string, AppConfig>();
    const next = new Map<string, AppConfig>();
    for (const [app, outcome] of apps) {
      const kept = outcome.ok ? { key: { namespace, app }, config: outcome.config, shared: outcome.shared } : previous.get(app);
      if (kept !== undefined) next.set(app, kept);
    }
    if (next.size === 0) this.good.delete(namespace);
    else this.good.set(namespace, next);
    this.handle.publish(this.catalog());
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private catalog(): Catalog {
    const apps = new Map<string, AppConfig>();
    for (const byApp of [...this.good.keys()].sort().map((ns) => this.good.get(ns)!)) {
      for (const app of [...byApp.keys()].sort()) {
        const config = byApp.get(app)!;
        apps.set(resourceName(config.key), config);
      }
    }
    return { apps, files: [], version: digest(JSON.stringify([...apps].map(([name, a]) => [name, a.config, a.shared]))) };
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
