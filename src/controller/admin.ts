// The controller's admin listener (plain HTTP, ../admin-server.ts): /metrics, /healthz, /readyz (200
// once every watched collection has been listed), /status (JSON: identity, leadership, every app's
// state).
import { parseListen } from '../address.ts';
import { jsonReply, startAdminServer, type AdminServer } from '../admin-server.ts';

export type { AdminServer } from '../admin-server.ts';

export interface AdminSources {
  metrics(): Promise<string>;
  contentType: string;
  status(): unknown;
  ready(): boolean;
}

export function startAdmin(listen: string, sources: AdminSources): Promise<AdminServer> {
  const { host, port } = parseListen(listen, 'admin address');
  return startAdminServer(host, port, {
    title: 'sergo controller admin',
    routes: {
      '/metrics': async () => ({ body: await sources.metrics(), type: sources.contentType }),
      '/healthz': () => ({ body: 'ok\n' }),
      '/readyz': () => (sources.ready() ? { body: 'ok\n' } : { status: 503, body: 'not synced yet\n' }),
      '/status': () => jsonReply(sources.status()),
    },
  });
}
