// Where the served catalog comes from when it is not rule files: a source that builds catalogs
// itself (the OpenSergo control plane, src/opensergo) and hands each new one to the server. The
// server serves `current()` at start, every catalog given to the listener afterwards, and shows
// `status()` as /status's `source`.
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
  close(): Promise<void>;
}
