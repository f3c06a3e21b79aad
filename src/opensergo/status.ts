// What /status of `sergo xds --opensergo` shows of the control plane (under `source`): the
// connection, per app and kind the last version applied and how many objects it holds, the app's
// last refused build, the push counters, the last NACK sent and the last error the control plane
// answered with.
import { resourceName } from '../xds/resource.ts';
import type { AppState } from './app-state.ts';

export interface Counters {
  pushes: number;
  acks: number;
  nacks: number;
  /** dropped as older than the version applied (ACKed with code 4010) */
  outdated: number;
}

export interface PushRecord {
  at: string;
  namespace: string;
  app: string;
  kind: string;
  version: number | null;
  responseId: string;
  code: number | null;
  reason: string;
}

export function appStatus(app: AppState): Record<string, unknown> {
  const kinds: Record<string, unknown> = {};
  for (const [kind, state] of app.kinds) {
    kinds[kind] = {
      version: state.version ?? null,
      objects: state.objects.map((o) => o.metadata.name),
      receivedAt: state.receivedAt === undefined ? null : new Date(state.receivedAt).toISOString(),
    };
  }
  return {
    resource: resourceName(app.key),
    namespace: app.key.namespace,
    app: app.key.app,
    serving: app.good === undefined ? 'waiting' : 'rules',
    rules: app.good?.config.rules.length ?? 0,
    kinds,
    lastError: app.lastError === undefined ? null : { at: new Date(app.lastError.at).toISOString(), errors: app.lastError.errors },
  };
}
