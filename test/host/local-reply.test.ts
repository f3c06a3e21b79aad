// The local reply src/host builds as Envoy does (Http::Utility::prepareLocalReply), for HTTP and for
// gRPC requests. Each expectation is what Envoy 1.36 sent for the same input (test/envoy/grpc.test.ts
// checks the filter's replies against Envoy itself).
import { describe, expect, it } from 'vitest';
import { grpcPercentEncode, httpToGrpcStatus, isGrpcRequest, localReply, wireOrderHttp2 } from '../../src/host/local-reply.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const EXTRA: [string, string][] = [['x-a', '1'], ['content-type', 'application/json'], ['x-b', '2'], ['content-length', '99'], ['x-a', '3']];
const reply = (grpc: boolean, grpcStatus = -1, body = 'hello', extra = EXTRA) =>
  localReply({ status: 429, body: bytes(body), extra: extra.map(([n, v]) => [n, v]), details: 'a b', grpcStatus, grpc });

describe('local replies', () => {
  it('HTTP: the extra headers in order, content-length corrected in place, the body', () => {
    const r = reply(false);
    expect(r.headers).toEqual([[':status', '429'], ['x-a', '1'], ['content-type', 'application/json'], ['x-b', '2'], ['content-length', '5'], ['x-a', '3']]);
    expect(r).toMatchObject({ status: 429, bodyText: 'hello', grpc: false, details: 'a_b' });
    expect(reply(false, -1, 'hi', []).headers).toEqual([[':status', '429'], ['content-length', '2'], ['content-type', 'text/plain']]);
    expect(reply(false, -1, '', []).headers).toEqual([[':status', '429']]);
  });

  it('gRPC: 200, application/grpc in place, grpc-status and grpc-message appended, no content-length, no body', () => {
    const r = reply(true, 8);
    expect(r.headers).toEqual([[':status', '200'], ['x-a', '1'], ['content-type', 'application/grpc'], ['x-b', '2'], ['x-a', '3'], ['grpc-status', '8'], ['grpc-message', 'hello']]);
    expect(r).toMatchObject({ status: 200, bodyText: '', grpc: true, grpcStatus: 8 });
    expect(r.body.length).toBe(0);
    expect(wireOrderHttp2(r.headers)).toEqual([[':status', '200'], ['x-a', '1'], ['x-a', '3'], ['content-type', 'application/grpc'], ['x-b', '2'], ['grpc-status', '8'], ['grpc-message', 'hello']]);
  });

  it('gRPC: without a usable grpc_status (-1, or beyond 16) the HTTP status is mapped; no body, no grpc-message', () => {
    expect(reply(true, -1, '', []).headers).toEqual([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '14']]);
    expect(reply(true, 17, '', []).headers).toContainEqual(['grpc-status', '14']);
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(httpToGrpcStatus)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2, 2]);
  });

  it('gRPC: a non-empty grpc-status among the extra headers is kept; an empty one is set', () => {
    expect(reply(true, 8, '', [['grpc-status', '4']]).headers).toEqual([[':status', '200'], ['grpc-status', '4'], ['content-type', 'application/grpc']]);
    expect(reply(true, 8, '', [['grpc-status', '']]).headers).toEqual([[':status', '200'], ['grpc-status', '8'], ['content-type', 'application/grpc']]);
  });

  it('grpc-message is percent-encoded as Envoy does: below 0x20, from ~ up, and %', () => {
    expect(grpcPercentEncode(bytes('closed for maintenance: 100% ~ü\n'))).toBe('closed for maintenance: 100%25 %7E%C3%BC%0A');
    expect(grpcPercentEncode(bytes(' !}\x7f\t'))).toBe(' !}%7F%09');
  });

  it('a request is gRPC when it has a :path and content-type application/grpc or application/grpc+…', () => {
    const with_ = (ct: string) => isGrpcRequest([[':path', '/a'], ['content-type', ct]]);
    expect(['application/grpc', 'application/grpc+proto', 'application/grpc+json'].map(with_)).toEqual([true, true, true]);
    expect(['application/grpc-web', 'application/grpc;x=1', 'application/grpcx', 'APPLICATION/GRPC', 'text/plain'].map(with_)).toEqual([false, false, false, false, false]);
    expect(isGrpcRequest([['content-type', 'application/grpc']])).toBe(false);
    expect(isGrpcRequest([[':path', '/a']])).toBe(false);
  });
});
