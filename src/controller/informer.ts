// A watched collection: client-node's ListWatch (list, then watch from the list's resource version;
// a 410 Gone relists, and the relist reports what vanished meanwhile as deletions), with
//   - bookmarks asked for (about one a minute), and a watch silent for 150 s ended and made again:
//     a connection that died without closing is found, and a quiet watch otherwise lives until the
//     server ends it (30–60 min), so a steady state costs no requests;
//   - a watch that fails (API server down, restarting) restarted with a back-off (0.5 s … 8 s), from
//     its last resource version;
//   - lists paged (500 objects a page), counted, and `synced` once the first list is in the cache.
import { ListWatch, Watch, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from '../serve/log.ts';
import type { Kube } from './kube.ts';
import { describeError } from './kube.ts';
import type { ControllerMetrics } from './metrics.ts';

/** Bookmarks come about once a minute; a watch silent for longer than this is taken as dead. */
const INACTIVITY_MS = 150_000;
const PAGE = 500;
const BACKOFF_MS = { first: 500, max: 8000 };

type Page = KubernetesListObject<KubernetesObject>;
export type ListPage = (continueToken: string | undefined, limit: number) => Promise<Page>;

/** Asks for bookmarks, counts watches and 410s, and ends a watch that stays silent too long. */
class BookmarkWatch extends Watch {
  constructor(kube: Kube, private readonly observe: (what: 'watch' | 'gone') => void) {
    super(kube.config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
    done: (err: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ): Promise<AbortController> {
    this.observe('watch');
    let timer: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller?.abort(), INACTIVITY_MS);
      timer.unref();
    };
    controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true }, (phase, obj, raw) => {
      arm();
      if (phase === 'ERROR' && (obj as { code?: number })?.code === 410) this.observe('gone');
      callback(phase, obj, raw);
    }, (err: { statusCode?: number } | null) => {
      clearTimeout(timer);
      if (err?.statusCode === 410) this.observe('gone');
      done(err);
    });
    arm();
    return controller;
  }
}

export interface InformerOptions {
  /** Collection path, e.g. /apis/GROUP/VERSION/PLURAL. */
  path: string;
  /** Label for metrics and logs. */
  resource: string;
  list: ListPage;
  labelSelector?: string;
  fieldSelector?: string;
}

export class Informer<T extends KubernetesObject> {
  private readonly watch: ListWatch<T>;
  private backoffMs = BACKOFF_MS.first;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  constructor(kube: Kube, private readonly options: InformerOptions, private readonly metrics: ControllerMetrics, private readonly logger: Logger) {
    const watch = new BookmarkWatch(kube, (what) => {
      if (what === 'gone') metrics.gone.inc({ resource: options.resource });
      else metrics.requests.inc({ verb: 'watch', resource: options.resource });
    });
    this.watch = new ListWatch<T>(options.path, watch, () => this.listAll() as Promise<KubernetesListObject<T>>, false, options.labelSelector, options.fieldSelector);
    this.watch.on('error', (err) => this.failed(err));
  }

  on(event: 'add' | 'update' | 'delete', handler: (obj: T) => void): void {
    this.watch.on(event, (obj) => {
      this.backoffMs = BACKOFF_MS.first;
      handler(obj);
    });
  }

  start(): void {
    void this.watch.start();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    void this.watch.stop();
  }

  list(namespace?: string): readonly T[] {
    return this.watch.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.watch.get(name, namespace);
  }

  private async listAll(): Promise<Page> {
    const items: KubernetesObject[] = [];
    let continueToken: string | undefined;
    let first: Page | undefined;
    do {
      const page = await this.options.list(continueToken, PAGE);
      first ??= page;
      items.push(...page.items);
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken !== undefined);
    this.metrics.lists.inc({ resource: this.options.resource });
    this.backoffMs = BACKOFF_MS.first;
    // ListWatch fills its cache right after this promise resolves: mark synced after that.
    setImmediate(() => this.resolveSynced());
    return { ...first!, items };
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.metrics.watchErrors.inc({ resource: this.options.resource });
    this.logger.warn(`watch of ${this.options.resource} failed (${describeError(err)}); again in ${this.backoffMs / 1000} s`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.watch.start();
    }, this.backoffMs);
    this.restartTimer.unref?.();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MS.max);
  }
}
