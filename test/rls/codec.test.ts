// The wire forms and the request planning of the rate-limit service, without Redis: proto field
// numbers, protobuf bytes, proto3 JSON decoding/encoding, budgets (keys, windows, buckets).
import { describe, expect, it } from 'vitest';
import { fromWireRequest, rateLimitServiceDefinition, rlsPackageDefinition, toWireResponse } from '../../src/rls/grpc.ts';
import { decodeJsonRequest, durationJson, encodeJsonResponse } from '../../src/rls/json.ts';
import { bucketsFor, InvalidRequestError, planRequest, type RateLimitRequest } from '../../src/rls/model.ts';
import { parseListen } from '../../src/rls/service.ts';

interface FieldDescriptor {
  name: string;
  number: number;
}
interface MessageDescriptor {
  field: FieldDescriptor[];
  nestedType: (MessageDescriptor & { name: string })[];
  enumType: { name: string; value: { name: string; number: number }[] }[];
}

const definitions = rlsPackageDefinition() as unknown as Record<string, { type: unknown }>;
function message(name: string): MessageDescriptor {
  return definitions[name]!.type as MessageDescriptor;
}
function fields(m: MessageDescriptor): Record<string, number> {
  return Object.fromEntries(m.field.map((f) => [f.name, f.number]));
}
function nested(m: MessageDescriptor, name: string): MessageDescriptor {
  return m.nestedType.find((n) => n.name === name)!;
}
function enumValues(e: { value: { name: string; number: number }[] }): Record<string, number> {
  return Object.fromEntries(e.value.map((v) => [v.name, v.number]));
}

describe('proto files (envoy.service.ratelimit.v3)', () => {
  it('have the Envoy API field numbers', () => {
    expect(fields(message('envoy.service.ratelimit.v3.RateLimitRequest'))).toEqual({ domain: 1, descriptors: 2, hits_addend: 3 });
    const response = message('envoy.service.ratelimit.v3.RateLimitResponse');
    expect(fields(response)).toEqual({
      overall_code: 1,
      statuses: 2,
      response_headers_to_add: 3,
      request_headers_to_add: 4,
      raw_body: 5,
      dynamic_metadata: 6,
      quota: 7,
    });
    expect(enumValues(response.enumType.find((e) => e.name === 'Code')!)).toEqual({ UNKNOWN: 0, OK: 1, OVER_LIMIT: 2 });
    expect(fields(nested(response, 'DescriptorStatus'))).toEqual({
      code: 1,
      current_limit: 2,
      limit_remaining: 3,
      duration_until_reset: 4,
      quota: 5,
    });
    const rateLimit = nested(response, 'RateLimit');
    expect(fields(rateLimit)).toEqual({ requests_per_unit: 1, unit: 2, name: 3 });
    expect(enumValues(rateLimit.enumType[0]!)).toEqual({ UNKNOWN: 0, SECOND: 1, MINUTE: 2, HOUR: 3, DAY: 4, MONTH: 5, YEAR: 6 });
    const descriptor = message('envoy.extensions.common.ratelimit.v3.RateLimitDescriptor');
    expect(fields(descriptor)).toEqual({ entries: 1, limit: 2, hits_addend: 3 });
    expect(fields(nested(descriptor, 'Entry'))).toEqual({ key: 1, value: 2 });
    expect(fields(nested(descriptor, 'RateLimitOverride'))).toEqual({ requests_per_unit: 1, unit: 2 });
    expect(enumValues(definitions['envoy.type.v3.RateLimitUnit']!.type as { value: { name: string; number: number }[] })).toEqual({
      UNKNOWN: 0,
      SECOND: 1,
      MINUTE: 2,
      HOUR: 3,
      DAY: 4,
      MONTH: 5,
      YEAR: 6,
    });
  });

  it('encode a request to the expected protobuf bytes and decode it back', () => {
    const method = rateLimitServiceDefinition().ShouldRateLimit!;
    expect(method.path).toBe('/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit');
    const request = {
      domain: 'sergo',
      descriptors: [
        { entries: [{ key: 'k', value: 'v' }], limit: { requests_per_unit: 5, unit: 'SECOND' }, hits_addend: { value: 3 } },
      ],
      hits_addend: 2,
    };
    const bytes = method.requestSerialize(request);
    expect(bytes.toString('hex')).toBe(
      '0a05736572676f' + // 1: domain "sergo"
        '1212' + // 2: descriptor, 18 bytes
        '0a060a016b120176' + //   1: entry {key "k", value "v"}
        '120408051001' + //   2: limit {requests_per_unit 5, unit SECOND}
        '1a020803' + //   3: hits_addend {value 3}
        '1802', // 3: hits_addend 2
    );
    const decoded = fromWireRequest(method.requestDeserialize(bytes) as Parameters<typeof fromWireRequest>[0]);
    expect(decoded).toEqual({
      domain: 'sergo',
      descriptors: [{ entries: [{ key: 'k', value: 'v' }], limit: { requestsPerUnit: 5, unit: 'SECOND' }, hitsAddend: 3 }],
      hitsAddend: 2,
    });
  });

  it('tells an explicit descriptor hits_addend of 0 from an absent one', () => {
    const method = rateLimitServiceDefinition().ShouldRateLimit!;
    const roundTrip = (descriptor: Record<string, unknown>) =>
      fromWireRequest(
        method.requestDeserialize(method.requestSerialize({ domain: 'd', descriptors: [descriptor] })) as Parameters<
          typeof fromWireRequest
        >[0],
      ).descriptors[0]!;
    expect(roundTrip({ entries: [{ key: 'a', value: 'b' }], hits_addend: { value: 0 } }).hitsAddend).toBe(0);
    expect(roundTrip({ entries: [{ key: 'a', value: 'b' }] }).hitsAddend).toBeUndefined();
  });

  it('encode a response that decodes to the same statuses', () => {
    const method = rateLimitServiceDefinition().ShouldRateLimit!;
    const wire = toWireResponse({
      overallCode: 'OVER_LIMIT',
      statuses: [
        { code: 'OVER_LIMIT', currentLimit: { name: 'r', requestsPerUnit: 5, unit: 'SECOND' }, limitRemaining: 0, durationUntilResetMs: 1500 },
        { code: 'OK', limitRemaining: 0 },
      ],
    });
    const back = method.responseDeserialize(method.responseSerialize(wire)) as Record<string, unknown>;
    expect(back).toEqual({
      overall_code: 'OVER_LIMIT',
      statuses: [
        {
          code: 'OVER_LIMIT',
          current_limit: { name: 'r', requests_per_unit: 5, unit: 'SECOND' },
          limit_remaining: 0, // written explicitly (protobufjs encodes a set 0); decoders read it either way
          duration_until_reset: { seconds: 1, nanos: 500_000_000 },
        },
        { code: 'OK', limit_remaining: 0 },
      ],
    });
  });
});

describe('HTTP/JSON form', () => {
  it('accepts lowerCamelCase and proto field names, numbers as strings, enums as numbers', () => {
    const camel = decodeJsonRequest(
      JSON.stringify({
        domain: 'sergo',
        descriptors: [{ entries: [{ key: 'sergo_rule', value: 'r' }], limit: { requestsPerUnit: 10, unit: 'MINUTE' }, hitsAddend: '4' }],
        hitsAddend: 2,
      }),
    );
    const snake = decodeJsonRequest(
      JSON.stringify({
        domain: 'sergo',
        descriptors: [{ entries: [{ key: 'sergo_rule', value: 'r' }], limit: { requests_per_unit: '10', unit: 2 }, hits_addend: 4 }],
        hits_addend: '2',
      }),
    );
    const expected: RateLimitRequest = {
      domain: 'sergo',
      descriptors: [{ entries: [{ key: 'sergo_rule', value: 'r' }], limit: { requestsPerUnit: 10, unit: 'MINUTE' }, hitsAddend: 4 }],
      hitsAddend: 2,
    };
    expect(camel).toEqual(expected);
    expect(snake).toEqual(expected);
  });

  it('treats null and absent fields as defaults', () => {
    expect(decodeJsonRequest('{"domain":"d","descriptors":[{"entries":[{"key":"a","value":"b"}],"limit":null,"hitsAddend":null}],"hitsAddend":null}')).toEqual({
      domain: 'd',
      descriptors: [{ entries: [{ key: 'a', value: 'b' }] }],
      hitsAddend: 0,
    });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /request must be an object/],
    ['an unknown field', '{"domain":"d","descriptors":[],"hits":3}', /unknown field "hits"/],
    ['a field twice under both names', '{"hitsAddend":1,"hits_addend":2}', /given twice/],
    ['a negative hits_addend', '{"hitsAddend":-1}', /hits_addend must be a uint32/],
    ['a hits_addend of the wrong type', '{"hitsAddend":true}', /hits_addend must be a non-negative integer/],
    ['a fractional count', '{"descriptors":[{"entries":[],"limit":{"requestsPerUnit":1.5}}]}', /requests_per_unit must be a uint32/],
    ['a uint32 overflow', '{"hitsAddend":4294967296}', /hits_addend must be a uint32/],
    ['an unknown unit', '{"descriptors":[{"entries":[],"limit":{"requestsPerUnit":1,"unit":"WEEK"}}]}', /unit must be one of/],
    ['a non-string value', '{"descriptors":[{"entries":[{"key":"a","value":5}]}]}', /value must be a string/],
  ])('rejects %s', (_, body, message) => {
    expect(() => decodeJsonRequest(body)).toThrow(InvalidRequestError);
    expect(() => decodeJsonRequest(body)).toThrow(message);
  });

  it('encodes responses as protojson does (lowerCamelCase, enum names, Duration strings)', () => {
    expect(
      encodeJsonResponse({
        overallCode: 'OK',
        statuses: [
          { code: 'OK', currentLimit: { name: 'rule-a per 5000ms', requestsPerUnit: 100, unit: 'SECOND' }, limitRemaining: 0, durationUntilResetMs: 4250 },
          { code: 'OK', limitRemaining: 0 },
        ],
      }),
    ).toBe(
      '{"overallCode":"OK","statuses":[' +
        '{"code":"OK","currentLimit":{"name":"rule-a per 5000ms","requestsPerUnit":100,"unit":"SECOND"},"limitRemaining":0,"durationUntilReset":"4.250s"},' +
        '{"code":"OK","limitRemaining":0}]}',
    );
    expect(durationJson(0)).toBe('0s');
    expect(durationJson(5000)).toBe('5s');
    expect(durationJson(1)).toBe('0.001s');
    expect(durationJson(61_020)).toBe('61.020s');
  });
});

describe('planning budgets', () => {
  const plan = (request: Partial<RateLimitRequest>, domains: readonly string[] | '*' = ['sergo']) =>
    planRequest({ domain: 'sergo', descriptors: [], hitsAddend: 0, ...request }, { domains });
  const rule = (id: string) => ({ key: 'sergo_rule', value: id });
  const windowMs = (ms: string) => ({ key: 'sergo_window_ms', value: ms });

  it('takes the window from sergo_window_ms, else from the unit', () => {
    const [a, b, c] = plan({
      descriptors: [
        { entries: [rule('a'), windowMs('5000')], limit: { requestsPerUnit: 7, unit: 'SECOND' } },
        { entries: [rule('b')], limit: { requestsPerUnit: 7, unit: 'MINUTE' } },
        { entries: [rule('c'), windowMs('250')], limit: { requestsPerUnit: 7, unit: 'UNKNOWN' } },
      ],
    });
    expect(a).toMatchObject({ key: 'sergo:rls:sergo:5000:sergo_rule=a', windowMs: 5000, limit: 7, hits: 1, name: 'a per 5000ms' });
    expect(b).toMatchObject({ key: 'sergo:rls:sergo:60000:sergo_rule=b', windowMs: 60_000 });
    expect(c).toMatchObject({ windowMs: 250, unit: 'UNKNOWN' });
  });

  it('keys a budget by domain, window and every entry but the window, escaped', () => {
    const [a] = plan(
      { domain: 'my:app', descriptors: [{ entries: [rule('ns/app:r{1}'), { key: 'user', value: 'a&b=c' }], limit: { requestsPerUnit: 1, unit: 'HOUR' } }] },
      '*',
    );
    expect(a!.key).toBe('sergo:rls:my%3Aapp:3600000:sergo_rule=ns%2Fapp%3Ar%7B1%7D&user=a%26b%3Dc');
    const [long] = plan({ descriptors: [{ entries: [rule('x'.repeat(300))], limit: { requestsPerUnit: 1, unit: 'SECOND' } }] });
    expect(long!.key).toMatch(/^sergo:rls:sergo:1000:sha256=[0-9a-f]{64}$/);
  });

  it('gives descriptors without a limit no budget, and applies hits_addend', () => {
    const budgets = plan({
      hitsAddend: 5,
      descriptors: [
        { entries: [rule('a')] },
        { entries: [rule('b')], limit: { requestsPerUnit: 9, unit: 'DAY' } },
        { entries: [rule('c')], limit: { requestsPerUnit: 9, unit: 'DAY' }, hitsAddend: 0 },
      ],
    });
    expect(budgets[0]).toBeUndefined();
    expect(budgets[1]!.hits).toBe(5);
    expect(budgets[2]!.hits).toBe(0);
    expect(plan({ descriptors: [{ entries: [rule('b')], limit: { requestsPerUnit: 9, unit: 'DAY' } }] })[0]!.hits).toBe(1);
  });

  it.each([
    ['an empty domain', { domain: '' }, /domain must not be empty/],
    ['another domain', { domain: 'other', descriptors: [{ entries: [rule('a')] }] }, /unknown domain "other"/],
    ['no descriptors', {}, /descriptors must not be empty/],
    ['a descriptor without entries', { descriptors: [{ entries: [] }] }, /entries must not be empty/],
    ['an empty key', { descriptors: [{ entries: [{ key: '', value: 'x' }] }] }, /key must not be empty/],
    ['only a window entry', { descriptors: [{ entries: [windowMs('10')] }] }, /no entry besides sergo_window_ms/],
    ['a zero window', { descriptors: [{ entries: [rule('a'), windowMs('0')] }] }, /positive integer/],
    ['a window in seconds', { descriptors: [{ entries: [rule('a'), windowMs('5s')] }] }, /positive integer/],
    ['a window over a year', { descriptors: [{ entries: [rule('a'), windowMs('31536000001')] }] }, /at most/],
    ['two windows', { descriptors: [{ entries: [rule('a'), windowMs('10'), windowMs('20')] }] }, /more than one sergo_window_ms/],
    ['two rules', { descriptors: [{ entries: [rule('a'), rule('b')] }] }, /more than one sergo_rule/],
    ['a limit of UNKNOWN unit', { descriptors: [{ entries: [rule('a')], limit: { requestsPerUnit: 1, unit: 'UNKNOWN' as const } }] }, /UNKNOWN/],
    ['a huge hits_addend', { hitsAddend: 1_000_000_001, descriptors: [{ entries: [rule('a')] }] }, /hits_addend must be an integer/],
  ])('rejects %s', (_, request, message) => {
    expect(() => plan(request as Partial<RateLimitRequest>)).toThrow(message);
  });

  it('splits windows into at most 20 buckets that cover the window', () => {
    expect(bucketsFor(1000)).toEqual({ bucketMs: 50, buckets: 20 });
    expect(bucketsFor(5000)).toEqual({ bucketMs: 250, buckets: 20 });
    expect(bucketsFor(30)).toEqual({ bucketMs: 2, buckets: 15 });
    expect(bucketsFor(7)).toEqual({ bucketMs: 1, buckets: 7 });
    expect(bucketsFor(1)).toEqual({ bucketMs: 1, buckets: 1 });
    for (const w of [1, 3, 19, 20, 21, 999, 1001, 86_400_000, 31_536_000_000]) {
      const { bucketMs, buckets } = bucketsFor(w);
      expect(buckets * bucketMs).toBeGreaterThanOrEqual(w);
      expect((buckets - 1) * bucketMs).toBeLessThan(w);
      expect(buckets).toBeLessThanOrEqual(20);
    }
  });
});

describe('listen addresses', () => {
  it.each([
    ['127.0.0.1:8080', '127.0.0.1', 8080, '127.0.0.1:8080'],
    [':8081', '0.0.0.0', 8081, '0.0.0.0:8081'],
    ['[::1]:0', '::1', 0, '[::1]:0'],
    ['localhost:9', 'localhost', 9, 'localhost:9'],
  ])('parses %s', (text, host, port, grpcText) => {
    expect(parseListen(text, 'HTTP')).toEqual({ host, port, text: grpcText });
  });
  it.each(['8080', 'host:', 'host:99999', '::1:80'])('rejects %s', (text) => {
    expect(() => parseListen(text, 'HTTP')).toThrow(/invalid HTTP listen address/);
  });
});
