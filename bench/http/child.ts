// One server of the HTTP benchmark in its own process (so that the load generator, the proxy and
// the upstream do not share an event loop):
//   node --import tsx bench/http/child.ts upstream
//   node --import tsx bench/http/child.ts plain <upstream URL>
//   node --import tsx bench/http/child.ts sergo <upstream URL> <filter configuration JSON file> [vms]
//   node --import tsx bench/http/child.ts rls <redis URL>          (port = the HTTP/JSON port)
// Prints one JSON line {"port":…,"adminPort":…} on stdout when listening; exits when stdin closes.
import { startRateLimitService } from '../../src/rls/index.ts';
import { startServe } from '../../src/serve/index.ts';
import { startPlainProxy } from './plain-proxy.ts';
import { startUpstream } from './upstream.ts';

const [role, upstream, config, vms] = process.argv.slice(2); // rls: `upstream` is the Redis URL

async function start(): Promise<{ port: number; adminPort?: number; close(): Promise<void> }> {
  switch (role) {
    case 'upstream':
      return startUpstream();
    case 'plain':
      return startPlainProxy(new URL(upstream!));
    case 'sergo':
      return startServe({
        config: config!,
        upstream: upstream!,
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        vms: vms === undefined ? undefined : Number(vms),
        watch: false,
        logLevel: 'warn',
        allowEmpty: true,   // the "no rules" case is meant
      });
    case 'rls': {
      const rls = await startRateLimitService({ redisUrl: upstream!, redisTimeoutMs: 1000 });
      return { port: rls.httpPort, close: () => rls.close() };
    }
    default:
      throw new Error(`unknown role ${role}`);
  }
}

const server = await start();
process.stdout.write(`${JSON.stringify({ port: server.port, adminPort: server.adminPort })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
