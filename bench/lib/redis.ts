// A Redis for the Global rows: SERGO_TEST_REDIS_URL if set, else a redis-server child on a free
// port (no persistence, test/rls/support.ts's RedisChild); the reason when neither is available.
import { RedisChild, redisAnswers, redisServerInstalled } from '../../test/rls/support.ts';

export interface BenchRedis {
  url: string;
  /** where it came from, for the report */
  source: string;
  dispose(): Promise<void>;
}

export async function benchRedis(): Promise<BenchRedis | string> {
  const env = process.env.SERGO_TEST_REDIS_URL;
  if (env !== undefined && env !== '') {
    if (await redisAnswers(env, 1000)) return { url: env, source: 'SERGO_TEST_REDIS_URL', dispose: async () => {} };
    return `SERGO_TEST_REDIS_URL=${env} does not answer PING`;
  }
  if (!redisServerInstalled) return 'redis-server is not installed (scripts/redis.sh installs it) and SERGO_TEST_REDIS_URL is not set';
  try {
    const child = await RedisChild.start();
    return { url: child.url, source: `a redis-server child on port ${child.port}`, dispose: () => child.dispose() };
  } catch (err) {
    return (err as Error).message;
  }
}
