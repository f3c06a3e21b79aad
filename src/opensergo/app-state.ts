// What sergo holds of one subscribed app: per kind the objects last pushed (rebuilt from the
// payloads) and the version they came with, and the app's last good configuration.
import type { AppConfig } from '../xds/catalog.ts';
import type { AppKey } from '../xds/resource.ts';
import type { BareKind } from './kinds.ts';
import type { RebuiltObject } from './to-objects.ts';

export interface KindState {
  /** the version of the last push applied on this stream (undefined after a reconnect) */
  version: number | undefined;
  objects: RebuiltObject[];
  receivedAt: number | undefined;
}

export interface AppState {
  key: AppKey;
  kinds: Map<BareKind, KindState>;
  /** the last good configuration (served); undefined before the first */
  good: AppConfig | undefined;
  lastError: { at: number; errors: string[] } | undefined;
}
