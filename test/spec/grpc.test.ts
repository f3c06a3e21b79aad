// gRPC in the translator: Sentinel's resource spelling `package.Service/Method` (read as the call's
// :path `/package.Service/Method`) and the fallback extension `responseGrpcStatus`.
import { describe, expect, it } from 'vitest';
import { normalizeResource, resourceProblem } from '../../src/spec/resource.ts';
import { fallbackAction, join, rateLimit, rule } from '../support/documents.ts';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';

describe('gRPC resource names', () => {
  it.each([
    ['pkg.Service/Method', '/pkg.Service/Method'],
    ['sergo.test.Echo/Say', '/sergo.test.Echo/Say'],
    ['Greeter/SayHello', '/Greeter/SayHello'],
    ['grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Check'],
    ['my_pkg.v2.Svc_1/Do_It', '/my_pkg.v2.Svc_1/Do_It'],
  ])('reads %s as the path %s', (name, path) => {
    expect(normalizeResource(name)).toBe(path);
    expect(resourceProblem(normalizeResource(name))).toBeUndefined();
  });

  it.each(['/pkg.Service/Method', 'POST:/pkg.Service/Method', 'foo-route', 'pkg.Service/Method/x', 'pkg.Service/', 'pkg..Service/M',
    '.pkg.Service/M', '1pkg.Service/M', 'pkg.Service/M?x=1', 'pkg.Service/*', 'GET:pkg.Service/M', 'pkg.Service/M '])('leaves %j as written', (name) => {
    expect(normalizeResource(name)).toBe(name);
  });

  it('emits the path, with the path in the rule id', async () => {
    const result = await translateInline(join(rateLimit('rl'), rule('r', 'app-a', ['sergo.test.Echo/Say'], ['rl'])));
    expect(result.errors).toEqual([]);
    expect(result.config?.rules.map((r) => [r.id, r.resource])).toEqual([
      ['default/app-a/r/RateLimitStrategy/rl@/sergo.test.Echo/Say', '/sergo.test.Echo/Say'],
    ]);
    expect(schemaErrors(result.config)).toEqual([]);
  });
});

describe('fallback responseGrpcStatus', () => {
  const fallback = (grpcStatus?: string) =>
    fallbackAction('fb', `behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 429\n  responseContentBody: busy${grpcStatus === undefined ? '' : `\n  responseGrpcStatus: ${grpcStatus}`}`);
  const translate = (grpcStatus?: string) => translateInline(join(rateLimit('rl'), fallback(grpcStatus), rule('r', 'app-a', ['/a'], ['rl'], { fallback: 'fb' })));

  it.each([
    ['UNAVAILABLE', 14],
    ['RESOURCE_EXHAUSTED', 8],
    ['OK', 0],
    ['UNAUTHENTICATED', 16],
    ['10', 10],
    ['0', 0],
  ])('%s is grpcStatus %d', async (written, code) => {
    const result = await translate(written);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]?.fallback).toEqual({ status: 429, body: 'busy', grpcStatus: code });
    expect(result.warnings).toEqual([]);
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('is left out when not given (the filter picks one by strategy kind)', async () => {
    const result = await translate();
    expect(result.config?.rules[0]?.fallback).toEqual({ status: 429, body: 'busy' });
    expect(result.warnings).toEqual([]);
  });

  it('the schema refuses a code Envoy would not send', () => {
    const config = { version: 1, rules: [{ id: 'a', resource: '/a', strategy: { kind: 'RateLimit', threshold: 1, windowMs: 1000 }, fallback: { status: 429, grpcStatus: 17 } }] };
    expect(schemaErrors(config)).not.toEqual([]);
  });
});
