// A Redis for the Global rows: SERGO_TEST_REDIS_URL if set, else a redis-server child on a free
// port (no persistence), as test/rls/support.ts does; undefined (with the reason) when neither exists.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

export interface BenchRedis {
  url: string;
  /** where it came from, for the report */
  source: string;
  dispose(): Promise<void>;
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function benchRedis(): Promise<BenchRedis | string> {
  const env = process.env.SERGO_TEST_REDIS_URL;
  if (env !== undefined && env !== '') {
    if (await answers(env, 1000)) return { url: env, source: 'SERGO_TEST_REDIS_URL', dispose: async () => {} };
    return `SERGO_TEST_REDIS_URL=${env} does not answer PING`;
  }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return 'redis-server is not installed (scripts/redis.sh installs it) and SERGO_TEST_REDIS_URL is not set';
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-redis-'));
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const dispose = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(url, 200)) return { url, source: `a redis-server child on port ${port}`, dispose };
    await new Promise((r) => setTimeout(r, 50));
  }
  await dispose();
  return `redis-server on port ${port} did not answer PING within 10 s`;
}
