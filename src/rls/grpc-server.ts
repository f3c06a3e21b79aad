// The gRPC transport: envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit. A Redis failure is
// UNAVAILABLE (never a silent OK), so the proxy's failure mode decides.
import * as grpc from '@grpc/grpc-js';
import type { Calls } from './calls.ts';
import { RedisUnavailableError } from './counter.ts';
import { fromWireRequest, rateLimitServiceDefinition, toWireResponse, type WireRequest } from './grpc.ts';
import type { RlsLogger } from './log.ts';
import { InvalidRequestError } from './model.ts';

export function createGrpcServer(calls: Calls, log: RlsLogger): grpc.Server {
  const server = new grpc.Server();
  server.addService(rateLimitServiceDefinition(), {
    ShouldRateLimit: (call: grpc.ServerUnaryCall<WireRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void calls.serve('grpc', () => fromWireRequest(call.request)).then((result) => {
        if ('response' in result) return callback(null, toWireResponse(result.response));
        const code = grpcStatus(result.error);
        if (code === grpc.status.INTERNAL) log.error(`decision failed: ${(result.error as Error).stack ?? String(result.error)}`);
        callback({ code, details: (result.error as Error).message });
      });
    },
  });
  return server;
}

function grpcStatus(error: unknown): grpc.status {
  if (error instanceof InvalidRequestError) return grpc.status.INVALID_ARGUMENT;
  if (error instanceof RedisUnavailableError) return grpc.status.UNAVAILABLE;
  return grpc.status.INTERNAL;
}
