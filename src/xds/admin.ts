// The admin listener of `sergo xds` (plain HTTP, ../admin-server.ts): /status (JSON),
// /stats/prometheus (also /metrics), /ready.
import { jsonReply, startAdminServer, type AdminServer } from '../admin-server.ts';
import type { XdsStatus } from './status.ts';

export type { AdminServer } from '../admin-server.ts';

export interface AdminSources {
  status(): XdsStatus;
  metrics(): Promise<string>;
  contentType: string;
}

export function startAdmin(host: string, port: number, sources: AdminSources): Promise<AdminServer> {
  const metrics = async () => ({ body: await sources.metrics(), type: sources.contentType });
  return startAdminServer(host, port, {
    title: 'sergo xds admin',
    routes: {
      '/status': () => jsonReply(sources.status()),
      '/stats/prometheus': metrics,
      '/metrics': metrics,
      '/ready': () => ({ body: 'LIVE\n' }),
    },
    listed: ['/status', '/stats/prometheus', '/ready'],
  });
}
