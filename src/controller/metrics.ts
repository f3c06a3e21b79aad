// Prometheus metrics of one controller (its own registry: tests run several in one process).
import { Counter, Gauge, Registry } from 'prom-client';

export interface ControllerMetrics {
  registry: Registry;
  /** Every request to the API server, by Kubernetes verb and resource. */
  requests: Counter<'verb' | 'resource'>;
  /** Full lists (the first, and each relist after a 410 Gone or a watch that could not resume). */
  lists: Counter<'resource'>;
  /** Watches answered 410 Gone: their resource version was too old, a relist follows. */
  gone: Counter<'resource'>;
  /** Watches that ended with an error and were restarted. */
  watchErrors: Counter<'resource'>;
  reconciles: Counter<'result'>;
  /** Writes, by resource and verb; the standby replica makes none. */
  writes: Counter<'resource' | 'verb'>;
  conflicts: Counter<'resource'>;
  leader: Gauge;
  apps: Gauge<'state'>;
}

export function createMetrics(): ControllerMetrics {
  const registry = new Registry();
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  const metrics: ControllerMetrics = {
    registry,
    requests: counter('sergo_controller_api_requests_total', 'Requests to the Kubernetes API server, by verb and resource', ['verb', 'resource']),
    lists: counter('sergo_controller_lists_total', 'Full lists of a watched resource (first sync and relists)', ['resource']),
    gone: counter('sergo_controller_watch_gone_total', 'Watches answered 410 Gone (resource version too old): relisted', ['resource']),
    watchErrors: counter('sergo_controller_watch_errors_total', 'Watches that failed and were restarted after a back-off', ['resource']),
    reconciles: counter('sergo_controller_reconciles_total', 'Namespace reconciliations, by result', ['result']),
    writes: counter('sergo_controller_writes_total', 'Writes to the API server, by resource and verb', ['resource', 'verb']),
    conflicts: counter('sergo_controller_conflicts_total', 'Writes refused with 409 Conflict and retried', ['resource']),
    leader: new Gauge({ name: 'sergo_controller_leader', help: '1 while this replica holds the lease and writes', registers: [registry] }),
    apps: new Gauge({ name: 'sergo_controller_apps', help: 'Apps with rules: valid (written) or invalid (last good configuration kept)', labelNames: ['state'], registers: [registry] }),
  };
  for (const result of ['ok', 'error'] as const) metrics.reconciles.inc({ result }, 0);
  return metrics;
}
