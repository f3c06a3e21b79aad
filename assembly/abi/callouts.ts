// HTTP callouts (proxy_http_call). Envoy makes every call on behalf of the root context and hands
// every answer to it (proxy-wasm-cpp-host: http_call runs on the calling context's root), whichever
// stream's callback made the call. As proxy-wasm-rust-sdk's dispatcher does, this layer remembers
// who made each call and delivers the answer to it, so no context routes answers by hand. The
// receiver is an object rather than a context id: an answer can matter after the stream that
// asked for it has ended (a batch of rate-limit hits), and ended stream objects are pooled.
// Answers arrive in the root's context; a receiver that acts on a stream makes it effective first
// (StreamContext.makeEffective).
import * as imp from "./imports";
import { IdTable } from "./context";
import { RET } from "./memory";
import { Status } from "./enums";

export abstract class CallReceiver {
  /** The answer to a call this receiver made (headerCount 0: the call failed or timed out). */
  abstract onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void;
}

const receivers = new IdTable<CallReceiver>(64);

/** Starts an HTTP call to an Envoy cluster for `receiver`; returns the call token, or 0 when the
 *  host refused it (e.g. no such cluster: the receiver then gets no answer). */
export function httpCall(receiver: CallReceiver, cluster: ArrayBuffer, headers: ArrayBuffer, body: ArrayBuffer,
                         timeoutMs: u32): u32 {
  const status = imp.proxy_http_call(changetype<usize>(cluster), <usize>cluster.byteLength,
    changetype<usize>(headers), <usize>headers.byteLength, changetype<usize>(body), <usize>body.byteLength,
    0, 0, timeoutMs, RET);
  if (status != Status.OK) return 0;
  const token = load<u32>(RET);
  receivers.set(token, receiver);
  return token;
}

/** proxy_on_http_call_response: the answer goes to whoever made the call, once. */
export function deliverHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
  const receiver = receivers.get(token);
  if (receiver === null) return;
  receivers.delete(token);
  receiver.onHttpCallResponse(token, headerCount, bodySize, trailerCount);
}
