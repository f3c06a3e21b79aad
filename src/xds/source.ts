// Where the served catalog comes from when it is not rule files: a source that builds catalogs
// itself (the OpenSergo control plane, src/opensergo) and hands each new one to the server. The
// server serves `current()` at start, every catalog given to the listener afterwards, and shows
// `status()` as /status's `source` and its metrics beside the server's.
import type { Registry } from 'prom-client';
import type { Catalog } from './catalog.ts';

export interface CatalogSource {
  /** what /status calls it, e.g. `opensergo` */
  readonly type: string;
  /** the catalog to serve now */
  current(): Catalog;
  /** called with every new catalog (the listener pushes it to the Envoys whose configuration changed) */
  onCatalog(listener: (catalog: Catalog) => void): void;
  /** JSON for /status */
  status(): Record<string, unknown>;
  /** adds the source's own metrics to the server's registry (/stats/prometheus) */
  register?(registry: Registry): void;
  close(): Promise<void>;
}
