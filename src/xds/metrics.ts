// Prometheus metrics of one `sergo xds` (its own registry: several servers can live in one process).
import { Counter, Gauge, Registry } from 'prom-client';

export type ReloadOutcome = 'applied' | 'unchanged' | 'invalid';

export interface XdsMetrics {
  registry: Registry;
  streams: Gauge<'app'>;
  pushes: Counter<'app'>;
  acks: Counter<'app'>;
  nacks: Counter<'app'>;
  behind: Gauge<'app'>;
  reloads: Counter<'result'>;
}

/** `behindByApp`: per app, connected streams whose ACKed version is not the one last sent to them. */
export function createXdsMetrics(behindByApp: () => Map<string, number>): XdsMetrics {
  const registry = new Registry();
  const app = ['app'] as const;
  const streams = new Gauge({ name: 'sergo_xds_streams', help: 'Envoy streams subscribed to the app\'s resource (sergo/<namespace>/<app>)', labelNames: app, registers: [registry] });
  const pushes = new Counter({ name: 'sergo_xds_pushes_total', help: 'Configurations sent to Envoys, by app', labelNames: app, registers: [registry] });
  const acks = new Counter({ name: 'sergo_xds_acks_total', help: 'Configurations Envoys accepted (ACK), by app', labelNames: app, registers: [registry] });
  const nacks = new Counter({ name: 'sergo_xds_nacks_total', help: 'Configurations Envoys rejected (NACK), by app', labelNames: app, registers: [registry] });
  const behind = new Gauge({
    name: 'sergo_xds_streams_behind',
    help: 'Envoy streams that have not (yet) accepted the configuration last sent to them: pending or NACKed',
    labelNames: app,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, n] of behindByApp()) this.set({ app: name }, n);
    },
  });
  const reloads = new Counter({ name: 'sergo_xds_reloads_total', help: 'Rule file changes: applied (pushed), unchanged, invalid (not pushed)', labelNames: ['result'] as const, registers: [registry] });
  for (const result of ['applied', 'unchanged', 'invalid'] as const) reloads.inc({ result }, 0);
  return { registry, streams, pushes, acks, nacks, behind, reloads };
}
