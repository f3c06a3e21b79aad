// Counting in Redis: one Lua script per ShouldRateLimit call (one round trip, atomic).
//
// Algorithm — conservative sliding window over buckets (docs/rls.md §Counting):
//   A budget with window W is split into buckets of b = ceil(W / 20) ms (at least 1 ms); its state is
//   one Redis hash `sergo:rls:…` mapping bucket index (floor(now / b)) to the hits admitted in it.
//   With B = ceil(W / b) buckets covering W, a decision at time t in bucket j sums buckets j−B … j
//   (B + 1 buckets, a span between W and W + b long) and admits iff used + hits ≤ limit.
//   Guarantee: any interval of length W touches at most B + 1 consecutive buckets, and the last
//   admission into such a group saw every earlier one, so AT MOST `limit` hits are admitted in ANY
//   interval of length W (not only aligned ones: no 2× burst at window edges). Cost: budget is
//   released up to one bucket (≤ W/20 + 1 ms) late, so a client sending exactly limit/W may see at
//   most ~5% of its requests refused.
//   The clock is Redis' TIME, one clock for every replica of the service.
//   All descriptors of a call are checked first and counted only if all pass: a request refused by
//   one descriptor consumes nothing from the others, and an over-limit request consumes nothing.
//   hits = 0 is a query: OK iff some budget remains; nothing is counted.
//   Each write re-arms PEXPIRE (B + 2) × b, so idle keys disappear after about one window.
import { createHash } from 'node:crypto';
import type { createClient } from 'redis';
import type { Budget } from './model.ts';

export type RedisClient = ReturnType<typeof createClient>;

// KEYS[i]: budget hash. ARGV: 4 per key: limit, bucketMs, buckets, hits.
// Returns {allowed (0/1), then per key: allowed (0/1), remaining, ms until some budget is released}.
export const DECIDE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local pending = {}
local results = {}
local all = 1
for i = 1, n do
  local base = (i - 1) * 4
  local key = KEYS[i]
  local limit = tonumber(ARGV[base + 1])
  local bms = tonumber(ARGV[base + 2])
  local nb = tonumber(ARGV[base + 3])
  local hits = tonumber(ARGV[base + 4])
  local cur = math.floor(now / bms)
  local oldest = cur - nb
  local flat = redis.call('HGETALL', key)
  local used = 0
  local first = nil
  for j = 1, #flat, 2 do
    local idx = tonumber(flat[j])
    if idx < oldest then
      redis.call('HDEL', key, flat[j])
    else
      local c = tonumber(flat[j + 1])
      if c > 0 then
        used = used + c
        if first == nil or idx < first then first = idx end
      end
    end
  end
  used = used + (pending[key] or 0)
  local ok
  if hits == 0 then ok = used < limit else ok = used + hits <= limit end
  if ok then
    pending[key] = (pending[key] or 0) + hits
  else
    all = 0
  end
  results[i] = {ok, used, first, cur, bms, nb, limit, hits}
end
local out = {all}
for i = 1, n do
  local r = results[i]
  local ok, used, first, cur, bms, nb, limit, hits = r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]
  if all == 1 and hits > 0 then
    redis.call('HINCRBY', KEYS[i], cur, hits)
    redis.call('PEXPIRE', KEYS[i], (nb + 2) * bms)
    used = used + hits
    if first == nil then first = cur end
  end
  local remaining = limit - used
  if remaining < 0 then remaining = 0 end
  local reset
  if first == nil then reset = (cur + nb + 1) * bms - now else reset = (first + nb + 1) * bms - now end
  out[#out + 1] = ok and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = reset
end
return out
`;

const DECIDE_SHA1 = createHash('sha1').update(DECIDE_SCRIPT).digest('hex');

export interface BudgetResult {
  /** This budget alone would admit the request. */
  ok: boolean;
  /** Budget left in the current window (after this request's hits when the request was admitted). */
  remaining: number;
  /** Milliseconds until the oldest counted bucket leaves the window (when some budget comes back). */
  resetMs: number;
}

export interface Decision {
  /** Every budget admitted the request and its hits were counted. */
  allowed: boolean;
  results: BudgetResult[];
}

export type RedisFailureKind = 'timeout' | 'unavailable' | 'error';

/** Redis could not answer in time (gRPC UNAVAILABLE, HTTP 503). Never turned into OK. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  constructor(
    readonly kind: RedisFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** Runs the decision script for the budgets (all in one call), within timeoutMs. */
export async function decide(client: RedisClient, budgets: Budget[], timeoutMs: number): Promise<Decision> {
  const keys = budgets.map((b) => b.key);
  const args = budgets.flatMap((b) => [String(b.limit), String(b.bucketMs), String(b.buckets), String(b.hits)]);
  const reply = await runScript(client, keys, args, timeoutMs);
  if (!Array.isArray(reply) || reply.length !== 1 + 3 * budgets.length) {
    throw new RedisUnavailableError('error', `unexpected reply from the decision script: ${JSON.stringify(reply)}`);
  }
  const numbers = reply.map((v) => Number(v));
  return {
    allowed: numbers[0] === 1,
    results: budgets.map((_, i) => ({
      ok: numbers[1 + 3 * i] === 1,
      remaining: numbers[2 + 3 * i]!,
      resetMs: Math.max(0, numbers[3 + 3 * i]!),
    })),
  };
}

async function runScript(client: RedisClient, keys: string[], args: string[], timeoutMs: number): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  return withDeadline(timeoutMs, async (signal) => {
    try {
      return await client.sendCommand(['EVALSHA', DECIDE_SHA1, ...tail], { abortSignal: signal });
    } catch (err) {
      // After a Redis restart (or on a fresh server) the script cache is empty: send the source once.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await client.sendCommand(['EVAL', DECIDE_SCRIPT, ...tail], { abortSignal: signal });
    }
  });
}

/** PING within timeoutMs; throws RedisUnavailableError. */
export async function ping(client: RedisClient, timeoutMs: number): Promise<void> {
  const reply = await withDeadline(timeoutMs, (signal) => client.sendCommand(['PING'], { abortSignal: signal }));
  if (String(reply) !== 'PONG') throw new RedisUnavailableError('error', `unexpected PING reply ${JSON.stringify(reply)}`);
}

/**
 * Runs `work` with a hard deadline. The abort signal drops commands not yet written to the socket;
 * a command already written cannot be taken back (node-redis matches replies to commands in order),
 * so the deadline is also enforced here: its late reply is ignored (but the script may still have
 * counted its hits in Redis — under-admission, never over-admission).
 */
async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new RedisUnavailableError('timeout', `Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const running = work(controller.signal);
  running.catch(() => {}); // a failure after the deadline has nobody to tell
  try {
    return await Promise.race([running, deadline]);
  } catch (err) {
    throw classifyRedisError(err, timeoutMs, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
}

export function classifyRedisError(err: unknown, timeoutMs: number, aborted: boolean): RedisUnavailableError {
  if (err instanceof RedisUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.constructor.name : '';
  if (aborted || name === 'AbortError' || name === 'TimeoutError') {
    return new RedisUnavailableError('timeout', `Redis did not answer within ${timeoutMs} ms`);
  }
  // Replies from the server (script errors, OOM, READONLY…) are ErrorReply instances.
  if (name === 'ErrorReply' || name === 'SimpleError' || name === 'BlobError') {
    return new RedisUnavailableError('error', `Redis error: ${message}`);
  }
  return new RedisUnavailableError('unavailable', `Redis unavailable: ${message}`);
}
