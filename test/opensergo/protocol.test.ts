// The data plane's side of the OpenSergo transport against a scripted control plane of our own
// (test/opensergo/peer.ts, a real gRPC server): the subscriptions sent, the exact answer to every
// push (ACK with the push's response_id and code 1 or 4010, NACK with code 4000 and the reason), an
// empty push, an outdated version, an unknown kind, a malformed Any, a push that cannot become a
// configuration, and a stream reset mid-push (reconnect, subscribe again, versions forgotten).
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/serve/log.ts';
import { OpenSergoSource, type OpenSergoOptions } from '../../src/opensergo/source.ts';
import type { FilterConfig } from '../../src/emit/filter.ts';
import { eventually, sleep } from '../envoy/harness.ts';
import { KIND, payload, rateLimit, rule, ScriptedPeer, type PeerStream } from './peer.ts';

const KINDS = ['FaultToleranceRule', 'RateLimitStrategy', 'ThrottlingStrategy', 'ConcurrencyLimitStrategy', 'CircuitBreakerStrategy'].map(KIND);
const FOO = 'sergo/default/foo';

interface Running {
  peer: ScriptedPeer;
  source: OpenSergoSource;
  log: string[];
}

const running: Running[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.source.close();
    await r.peer.close();
  }
});

async function start(options: Partial<OpenSergoOptions> = {}, peer?: ScriptedPeer): Promise<Running> {
  const p = peer ?? (await ScriptedPeer.start());
  const log: string[] = [];
  const source = new OpenSergoSource({
    address: p.address, namespace: 'default', apps: ['foo'], settleMs: 300, backoff: { initialMs: 50, maxMs: 400 },
    logger: createLogger('debug', (l) => void log.push(l), 'sergo xds'), ...options,
  });
  source.start();
  const r = { peer: p, source, log };
  running.push(r);
  return r;
}

function served(source: OpenSergoSource, name = FOO): FilterConfig {
  return source.current().apps.get(name)!.config;
}

function thresholds(source: OpenSergoSource): number[] {
  return served(source).rules.map((r) => (r.strategy as { threshold: number }).threshold);
}

/** The stream's first stream of 5 subscriptions, with foo's rule served at threshold `threshold`. */
async function serving(r: Running, threshold: number): Promise<PeerStream> {
  const stream = await r.peer.stream(0, 5);
  stream.send({ kind: KIND('RateLimitStrategy'), version: 1, data: [rateLimit('limit', threshold)], response_id: '1' });
  stream.send({ kind: KIND('FaultToleranceRule'), version: 1, data: [rule('/a', 'limit')], response_id: '2' });
  await eventually(() => served(r.source).rules[0]?.resource === '/a', 10_000, 'the rule served');
  expect(thresholds(r.source)).toEqual([threshold]);
  return stream;
}

/** A whole answer as the control plane decodes it: nothing but the flag, the push's response_id and the status. */
const answerOf = (flag: 'ACK' | 'NACK', requestId: string, code: number, message: string) => ({
  target: null, op_type: 0, response_ack: flag, attachments: [], status: { code, message, details: [] }, identifier: '', request_id: requestId,
});
const ack = (requestId: string, code = 1, message = '') => answerOf('ACK', requestId, code, message);
const nack = (requestId: string, message: string) => answerOf('NACK', requestId, 4000, message);

describe('OpenSergo transport: subscriptions and answers (scripted control plane)', () => {
  it('subscribes each app to each kind, one kind per request, kind by kind, under an identifier unique to the process and stream', async () => {
    const r = await start({ apps: ['foo', 'bar'] });
    const stream = await r.peer.stream(0, 10);
    await sleep(200);
    const subs = stream.subscriptions();
    expect(subs).toHaveLength(10);
    const identifier = subs[0]!.identifier!;
    expect(identifier).toMatch(new RegExp(`^sergo-xds-.+-${process.pid}-[0-9a-f]{8}#1$`));
    // Kind by kind (each kind's apps in a row: the control plane's watcher of a kind starts on its first subscription).
    const expected = KINDS.flatMap((kind) => ['bar', 'foo'].map((app) => ({ app, kind })));
    expect(subs.map((s, i) => ({
      target: s.target, op_type: s.op_type, identifier: s.identifier, request_id: s.request_id, response_ack: s.response_ack,
    }))).toEqual(expected.map(({ app, kind }, i) => ({
      target: { namespace: 'default', app, labels: [], kinds: [kind] }, op_type: 0, identifier, request_id: String(i + 1), response_ack: '',
    })));
    // Another process (source) gets another identifier.
    const other = await start({}, r.peer);
    const otherStream = await r.peer.stream(1, 5);
    expect(otherStream.subscriptions()[0]!.identifier).not.toBe(identifier);
    expect(other.source.status().controlPlane).toMatchObject({ state: 'connected', streams: 1 });
  });

  it('ACKs each push with its response_id and serves the rules; before the first push the app waits (fail closed)', async () => {
    const r = await start();
    const stream = await r.peer.stream(0, 5);
    expect(served(r.source).rules.map((x) => x.id)).toEqual(['sergo/xds/waiting-for-the-control-plane']);
    stream.send({ kind: KIND('RateLimitStrategy'), version: 1, data: [rateLimit('limit', 7)], response_id: '3' });
    stream.send({ kind: KIND('FaultToleranceRule'), version: 4, data: [rule('/a', 'limit')], response_id: '' });
    expect(await stream.answer(0)).toEqual(ack('3'));
    expect(await stream.answer(1)).toEqual(ack(''));
    await eventually(() => served(r.source).rules.length === 1 && served(r.source).rules[0]!.resource === '/a', 10_000, 'served');
    expect(thresholds(r.source)).toEqual([7]);
    const status = r.source.status() as { apps: Array<{ kinds: Record<string, { version: number | null }> }>; pushes: unknown };
    expect(status.apps[0]!.kinds.RateLimitStrategy!.version).toBe(1);
    expect(status.apps[0]!.kinds.FaultToleranceRule!.version).toBe(4);
    expect(status.pushes).toEqual({ pushes: 2, acks: 2, nacks: 0, outdated: 0 });
  });

  it('an empty data list means no rules of that kind', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    stream.send({ kind: KIND('FaultToleranceRule'), version: 2, data: [], response_id: '' });
    expect(await stream.answer(2)).toEqual(ack(''));
    await eventually(() => served(r.source).rules.length === 0, 10_000, 'no rules');
    expect(served(r.source)).toEqual({ version: 1, rules: [] });
  });

  it('drops an outdated version with ACK 4010 and keeps what it runs; an equal version is applied', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    stream.send({ kind: KIND('RateLimitStrategy'), version: 3, data: [rateLimit('limit', 6)], response_id: '' });
    expect(await stream.answer(2)).toEqual(ack(''));
    stream.send({ kind: KIND('RateLimitStrategy'), version: 2, data: [rateLimit('limit', 9)], response_id: '' });
    expect(await stream.answer(3)).toEqual(ack('', 4010, 'outdated version'));
    expect(thresholds(r.source)).toEqual([6]);
    stream.send({ kind: KIND('RateLimitStrategy'), version: 3, data: [rateLimit('limit', 8)], response_id: '' });
    expect(await stream.answer(4)).toEqual(ack(''));
    expect(thresholds(r.source)).toEqual([8]);
    expect((r.source.status() as { pushes: { outdated: number } }).pushes.outdated).toBe(1);
  });

  it('NACKs an unknown kind and a push without data (code 4000, the reason) and changes nothing', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    const before = r.source.current().version;
    stream.send({ kind: 'traffic.opensergo.io/v1alpha1/TrafficRouter', version: 1, data: [], response_id: '' });
    const answer = await stream.answer(2);
    expect(answer).toEqual(nack('', `unrecognized kind "traffic.opensergo.io/v1alpha1/TrafficRouter": sergo subscribes to ${KINDS.join(', ')}`));
    expect(r.source.current().version).toBe(before);
    expect((r.source.status() as { lastNack: { reason: string } }).lastNack.reason).toBe(answer.status!.message);
    // A push without dataWithVersion is not taken for an empty list.
    stream.send({ kind: KIND('FaultToleranceRule'), response_id: '' });
    expect(await stream.answer(3)).toEqual(nack('', 'the push has no dataWithVersion (an empty list of objects is an empty data list)'));
    expect(thresholds(r.source)).toEqual([5]);
  });

  it('NACKs a malformed Any (bytes or type URL) and keeps serving the previous rules', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    const url = 'type.googleapis.com/io.opensergo.proto.fault_tolerance.v1.RateLimitStrategy';
    stream.send({ kind: KIND('RateLimitStrategy'), version: 2, data: [{ type_url: url, value: Buffer.from([0x0a, 0x05, 0x61]) }], response_id: '' });
    expect(await stream.answer(2)).toEqual(nack('', 'data[0]: not a valid io.opensergo.proto.fault_tolerance.v1.RateLimitStrategy (index out of range: 2 + 5 > 3)'));
    stream.send({ kind: KIND('RateLimitStrategy'), version: 3, data: [{ type_url: url, value: Buffer.from([0x20, 0xff]) }], response_id: '' });
    expect((await stream.answer(3)).status!.message).toBe('data[0]: not a valid io.opensergo.proto.fault_tolerance.v1.RateLimitStrategy (index out of range: 2 + 1 > 2)');
    stream.send({ kind: KIND('RateLimitStrategy'), version: 3, data: [payload('ThrottlingStrategy', { name: 'limit' })], response_id: '' });
    expect((await stream.answer(4)).status!.message).toBe(`data[0]: type URL "type.googleapis.com/io.opensergo.proto.fault_tolerance.v1.ThrottlingStrategy" is not ${url}`);
    expect(thresholds(r.source)).toEqual([5]);
    // The version of a refused push is not taken: version 2 is not outdated.
    stream.send({ kind: KIND('RateLimitStrategy'), version: 2, data: [rateLimit('limit', 4)], response_id: '' });
    expect(await stream.answer(5)).toEqual(ack(''));
    expect(thresholds(r.source)).toEqual([4]);
  });

  it('NACKs what cannot become a configuration, keeps the previous one, and applies it once a later push completes it', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    stream.send({ kind: KIND('FaultToleranceRule'), version: 2, data: [rule('/a', 'limit'), rule('/b', 'other')], response_id: '' });
    const refused = await stream.answer(2);
    expect(refused).toEqual(nack('', refused.status!.message));
    expect(refused.status!.message).toMatch(/other/);
    expect(served(r.source).rules.map((x) => x.resource)).toEqual(['/a']);
    stream.send({ kind: KIND('RateLimitStrategy'), version: 2, data: [rateLimit('limit', 5), rateLimit('other', 2)], response_id: '' });
    expect(await stream.answer(3)).toEqual(ack(''));
    expect(served(r.source).rules.map((x) => x.resource).sort()).toEqual(['/a', '/b']);
    // A value no CR can have (a failed duration conversion) is refused with what it is.
    stream.send({ kind: KIND('ThrottlingStrategy'), version: 1, data: [payload('ThrottlingStrategy', { name: 'p', min_interval_millis_of_requests: -1, queue_timeout_millis: 100 })], response_id: '' });
    expect((await stream.answer(4)).status!.message).toBe("ThrottlingStrategy/p: minIntervalOfRequests is -1: the control plane could not convert the CR's duration (it fails on 'd' and on a missing field)");
  });

  it('does not answer what is not a push: the control plane\'s errors are shown in /status', async () => {
    const r = await start();
    const stream = await serving(r, 5);
    stream.send({ kind: KIND('CircuitBreakerStrategy'), status: { code: 500, message: 'Register watcher error' }, response_id: '5' });
    stream.send({ kind: '', ack: 'NACK', status: { code: 4002, message: 'Request is invalid' }, response_id: '6' });
    await eventually(() => (r.source.status() as { lastReply: { responseId: string } | null }).lastReply?.responseId === '6', 5_000, 'replies seen');
    await sleep(300);
    expect(stream.answers()).toHaveLength(2);
    expect(thresholds(r.source)).toEqual([5]);
  });

  it('a stream reset mid-push: reconnects, subscribes again under a new stream identifier, forgets versions, converges', async () => {
    const r = await start();
    const first = await serving(r, 5);
    first.send({ kind: KIND('RateLimitStrategy'), version: 9, data: [rateLimit('limit', 6)], response_id: '' });
    first.reset();
    const second = await r.peer.stream(1, 5);
    const identifier = first.subscriptions()[0]!.identifier!;
    expect(second.subscriptions().map((s) => s.identifier)).toEqual(Array(5).fill(identifier.replace(/#1$/, '#2')));
    expect(second.subscriptions().map((s) => s.request_id)).toEqual(['6', '7', '8', '9', '10']);
    // A restarted control plane counts from 1 again: version 1 is applied, not dropped as outdated.
    second.send({ kind: KIND('RateLimitStrategy'), version: 1, data: [rateLimit('limit', 3)], response_id: '8' });
    expect(await second.answer(0)).toEqual(ack('8'));
    expect(thresholds(r.source)).toEqual([3]);
    expect(r.source.status().controlPlane).toMatchObject({ state: 'connected', streams: 2 });
    expect(r.log.some((l) => l.includes('stream 2: versions forgotten'))).toBe(true);
  });

  it('reconnects with backoff while the control plane is unreachable, and subscribes when it appears', async () => {
    const placeholder = await ScriptedPeer.start();
    const port = placeholder.port;
    await placeholder.close();
    const log: string[] = [];
    const source = new OpenSergoSource({
      address: `127.0.0.1:${port}`, namespace: 'default', apps: ['foo'], settleMs: 300, backoff: { initialMs: 50, maxMs: 400 },
      logger: createLogger('debug', (l) => void log.push(l), 'sergo xds'),
    });
    source.start();
    try {
      await eventually(() => log.filter((l) => l.includes('next attempt in')).length >= 3, 10_000, 'three failed attempts');
      // The first failure is said; the retries only at debug.
      expect(log.filter((l) => l.includes('next attempt in')).map((l) => l.split(':')[1]!.trim()).slice(0, 3)).toEqual(['warn', 'debug', 'debug']);
      const status = source.status().controlPlane as { state: string; streams: number; lastError: { message: string } };
      expect(status.streams).toBe(0);
      expect(status.lastError.message).toMatch(/cannot reach 127\.0\.0\.1:/);
      const delays = log.filter((l) => l.includes('next attempt in')).map((l) => Number(/next attempt in (\d+) ms/.exec(l)![1]));
      expect(delays.every((d) => d >= 25 && d <= 400)).toBe(true);
      const peer = await ScriptedPeer.start(port);
      running.push({ peer, source, log });
      await peer.stream(0, 5);
      expect(served(source).rules.map((x) => x.id)).toEqual(['sergo/xds/waiting-for-the-control-plane']);
    } finally {
      if (!running.some((x) => x.source === source)) await source.close();
    }
  });
});
