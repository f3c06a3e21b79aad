// Prometheus metrics of the OpenSergo source, in the registry of the `sergo xds` that serves it:
// whether the stream to the control plane is up, how many streams were opened, and the pushes by
// kind and answer (applied, outdated, refused).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { OpenSergoClient } from './client.ts';

export type PushAnswer = 'applied' | 'outdated' | 'refused';

export interface SourceMetrics {
  pushes: Counter<'kind' | 'answer'>;
}

export function registerSourceMetrics(registry: Registry, client: OpenSergoClient): SourceMetrics {
  new Gauge({
    name: 'sergo_xds_opensergo_connected',
    help: '1 while the stream to the OpenSergo control plane is open (subscriptions sent), else 0',
    registers: [registry],
    collect() {
      this.set(client.state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sergo_xds_opensergo_streams',
    help: 'Streams opened to the OpenSergo control plane since start (each reconnect opens one)',
    registers: [registry],
    collect() {
      this.set(client.streams);
    },
  });
  const pushes = new Counter({
    name: 'sergo_xds_opensergo_pushes_total',
    help: 'Pushes of the OpenSergo control plane by kind and answer: applied (ACK 1), outdated (ACK 4010), refused (NACK 4000)',
    labelNames: ['kind', 'answer'] as const,
    registers: [registry],
  });
  return { pushes };
}
