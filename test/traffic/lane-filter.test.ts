// The filter's lanes (assembly/lane) through src/host: colouring at the entry, the lane carried from
// W3C baggage to the lane header, and the baggage parser's edge cases. What the request headers are
// after on_request_headers is what Envoy's router and the upstream see.
import { describe, expect, it } from 'vitest';
import type { ProxyWasmHost } from '../../src/host/index.ts';
import { flushMetrics, startSergo } from '../filter/harness.ts';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';

const KEY = 'x-sergo-lane';
type Headers = Array<[string, string]>;

function lanesConfig(colour: unknown[] = [], names = ['gray', 'blue'], extra: Record<string, unknown> = {}) {
  return { version: 1, rules: [], lanes: { header: KEY, baggageKey: KEY, names, colour, ...extra } };
}

function start(config: unknown): ProxyWasmHost {
  const { host, started } = startSergo(config);
  expect(started).toBe(true);
  return host;
}

/** The request headers as the filter leaves them (what goes on to the router). */
function through(host: ProxyWasmHost, path: string, headers: Headers = [], method = 'GET'): Headers {
  const stream = host.stream();
  const result = stream.requestHeaders([[':method', method], [':path', path], [':authority', 'svc'], [':scheme', 'http'], ...headers]);
  expect(result.action).toBe('continue');
  const out = stream.requestHeaderMap.map(([k, v]) => [k, v] as [string, string]);
  stream.responseHeaders([[':status', '200']]);
  stream.finish();
  return out;
}

const values = (headers: Headers, name: string) => headers.filter(([k]) => k === name).map(([, v]) => v);

describe('colouring at the entry', () => {
  const config = lanesConfig([
    { lane: 'gray', when: [{ path: { exact: '/index' }, headers: [['x-user-id', { exact: '12345' }]] }, { query: [['beta', { present: true }]] }] },
    { lane: 'blue', when: [{ path: { prefix: '/blue' }, method: { exact: 'POST' } }] },
  ]);

  it('a matching request gets the lane header and a baggage member', () => {
    const out = through(start(config), '/index', [['x-user-id', '12345']]);
    expect(values(out, KEY)).toEqual(['gray']);
    expect(values(out, 'baggage')).toEqual([`${KEY}=gray`]);
  });

  it('blocks are ORed, conditions inside one ANDed', () => {
    const host = start(config);
    expect(values(through(host, '/index'), KEY)).toEqual([]);
    expect(values(through(host, '/other', [['x-user-id', '12345']]), KEY)).toEqual([]);
    expect(values(through(host, '/other?a=1&beta'), KEY)).toEqual(['gray']);
    expect(values(through(host, '/other?a=1&beta=yes'), KEY)).toEqual(['gray']);
    expect(values(through(host, '/other?betax=1'), KEY)).toEqual([]);
    expect(values(through(host, '/blue/x'), KEY)).toEqual([]);
    expect(values(through(host, '/blue/x', [], 'POST'), KEY)).toEqual(['blue']);
  });

  it('the path is compared without its query; the first rule that matches wins', () => {
    const host = start(lanesConfig([
      { lane: 'blue', when: [{ path: { exact: '/a' } }] },
      { lane: 'gray', when: [{}] },
    ]));
    expect(values(through(host, '/a?x=1'), KEY)).toEqual(['blue']);
    expect(values(through(host, '/a/b'), KEY)).toEqual(['gray']);
  });

  it('ignoreCase compares the path without ASCII case; header values keep theirs', () => {
    const host = start(lanesConfig([{ lane: 'gray', when: [{ path: { prefix: '/API' }, ignoreCase: true, headers: [['x-t', { exact: 'A' }]] }] }]));
    expect(values(through(host, '/api/v1', [['x-t', 'A']]), KEY)).toEqual(['gray']);
    expect(values(through(host, '/api/v1', [['x-t', 'a']]), KEY)).toEqual([]);
  });

  it('colouring replaces a lane the request already carries, header and baggage alike', () => {
    const host = start(lanesConfig([{ lane: 'gray', when: [{ path: { exact: '/g' } }] }]));
    const out = through(host, '/g', [[KEY, 'blue'], ['baggage', `a=1, ${KEY}=blue;p=q, b=2`]]);
    expect(values(out, KEY)).toEqual(['gray']);
    expect(values(out, 'baggage')).toEqual([`a=1,b=2,${KEY}=gray`]);
  });

  it('of two baggage headers the first is read; rewriting leaves one (as Envoy: first value, setCopy)', () => {
    const host = start(lanesConfig([{ lane: 'gray', when: [{ path: { exact: '/g' } }] }]));
    const out = through(host, '/g', [['baggage', 'a=1'], ['baggage', 'b=2']]);
    expect(values(out, 'baggage')).toEqual([`a=1,${KEY}=gray`]);
    const carried = through(host, '/h', [['baggage', 'a=1'], ['baggage', `${KEY}=gray`]]);
    expect(values(carried, KEY)).toEqual([]);
    expect(values(carried, 'baggage')).toEqual(['a=1', `${KEY}=gray`]);
  });

  it('a request that matches no rule and carries no lane is left as it came', () => {
    const host = start(lanesConfig([{ lane: 'gray', when: [{ path: { exact: '/g' } }] }]));
    const before: Headers = [['baggage', 'a=1'], ['x-other', 'y']];
    const out = through(host, '/h', before);
    expect(out.slice(4)).toEqual(before);
  });
});

describe('carrying the lane from baggage', () => {
  const host = start(lanesConfig());

  it('a known lane in baggage becomes the lane header; baggage is kept as it is', () => {
    const out = through(host, '/x', [['baggage', `userId=alice,${KEY}=gray`]]);
    expect(values(out, KEY)).toEqual(['gray']);
    expect(values(out, 'baggage')).toEqual([`userId=alice,${KEY}=gray`]);
  });

  it.each([
    ['several members, spaces and tabs', ` a=1 ,\t${KEY} = gray\t, b=2`],
    ['properties after the value', `${KEY}=gray;ttl=3;flag`],
    ['a percent-encoded value', `${KEY}=gr%61y`],
    ['the first of two members named alike', `${KEY}=gray,${KEY}=blue`],
    ['a member without "=" before it', `junk,${KEY}=gray`],
  ])('%s', (_what, baggage) => {
    expect(values(through(host, '/x', [['baggage', baggage]]), KEY)).toEqual(['gray']);
  });

  it.each([
    ['no baggage', undefined],
    ['an unknown lane', `${KEY}=green`],
    ['a key that only starts like the lane key', `${KEY}x=gray`],
    ['the key in a property, not a member', `a=1;${KEY}=gray`],
    ['a bad escape', `${KEY}=gr%6`],
    ['a value too long to be a lane', `${KEY}=${'g'.repeat(65)}`],
    ['an empty header', ''],
    ['a header over 8192 bytes', `${KEY}=gray,pad=${'p'.repeat(8192)}`],
  ])('no lane: %s', (_what, baggage) => {
    const out = through(host, '/x', baggage === undefined ? [] : [['baggage', baggage]]);
    expect(values(out, KEY)).toEqual([]);
    expect(values(out, 'baggage')).toEqual(baggage === undefined ? [] : [baggage]);
  });

  it('a known lane header wins over baggage, which is then made to agree', () => {
    const out = through(host, '/x', [[KEY, 'blue'], ['baggage', `${KEY}=gray,z=9`]]);
    expect(values(out, KEY)).toEqual(['blue']);
    expect(values(out, 'baggage')).toEqual([`z=9,${KEY}=blue`]);
  });

  it('a lane header alone gets its baggage member (so that the app carries it on)', () => {
    const out = through(host, '/x', [[KEY, 'gray']]);
    expect(values(out, 'baggage')).toEqual([`${KEY}=gray`]);
  });

  it('a lane header with an unknown value is left alone, and so is baggage', () => {
    const out = through(host, '/x', [[KEY, 'green'], ['baggage', `${KEY}=gray`]]);
    expect(values(out, KEY)).toEqual(['green']);
    expect(values(out, 'baggage')).toEqual([`${KEY}=gray`]);
  });

  it('counts what it coloured and carried', () => {
    const h = start(lanesConfig([{ lane: 'gray', when: [{ path: { exact: '/c' } }] }]));
    through(h, '/c');
    through(h, '/d', [['baggage', `${KEY}=blue`]]);
    through(h, '/d', [['baggage', `${KEY}=blue`]]);
    through(h, '/d');
    // Counted in the VM and handed to the host on the worker's tick, as the rules' counts are.
    expect(h.metric('sergo.lane_coloured')).toBe(0n);
    flushMetrics(h);
    expect(h.metric('sergo.lane_coloured')).toBe(1n);
    expect(h.metric('sergo.lane_carried')).toBe(2n);
    through(h, '/c');
    flushMetrics(h);
    expect(h.metric('sergo.lane_coloured')).toBe(2n);
  });

  it('a coloured request makes no metric call: its count arrives on the tick, FLUSH_MS after the first', () => {
    const { host: h } = startSergo(lanesConfig([{ lane: 'gray', when: [{ path: { exact: '/c' } }] }]), { recordCalls: true });
    h.calls.length = 0;
    for (let i = 0; i < 3; i++) through(h, '/c');
    const named = (suffix: string) => h.calls.filter((c) => c.name.endsWith(suffix)).length;
    expect(named('proxy_increment_metric')).toBe(0);
    expect(named('proxy_get_current_time_nanoseconds')).toBe(1);   // to schedule the flush, once
    h.advance(METRICS_FLUSH_MS - 1);
    expect(h.metric('sergo.lane_coloured')).toBe(0n);
    h.advance(1);
    expect(h.metric('sergo.lane_coloured')).toBe(3n);
    expect(named('proxy_increment_metric')).toBe(1);
    expect(h.vms[0]!.tickPeriodMs).toBe(0);                       // nothing pending: the tick stops
  });
});

describe('the lanes section is decoded strictly', () => {
  it.each([
    ['no names', { header: KEY, baggageKey: KEY, names: [] }],
    ['an upper-case header', { header: 'X-Lane', baggageKey: KEY, names: ['gray'] }],
    ['a lane name with a comma', { header: KEY, baggageKey: KEY, names: ['a,b'] }],
    ['a duplicate name', { header: KEY, baggageKey: KEY, names: ['a', 'a'] }],
    ['a rule of an unknown lane', { header: KEY, baggageKey: KEY, names: ['a'], colour: [{ lane: 'b', when: [{}] }] }],
    ['a rule without blocks', { header: KEY, baggageKey: KEY, names: ['a'], colour: [{ lane: 'a', when: [] }] }],
    ['presence on the path', { header: KEY, baggageKey: KEY, names: ['a'], colour: [{ lane: 'a', when: [{ path: { present: true } }] }] }],
    ['a regex', { header: KEY, baggageKey: KEY, names: ['a'], colour: [{ lane: 'a', when: [{ path: { regex: '.*' } }] }] }],
    ['an unknown field', { header: KEY, baggageKey: KEY, names: ['a'], extra: 1 }],
  ])('refuses %s', (_what, lanes) => {
    const { started } = startSergo({ version: 1, rules: [], lanes });
    expect(started).toBe(false);
  });
});
