// An HTTP stream context, driven in Envoy's order:
//   on_context_create → on_request_headers → [on_request_body…] [on_request_trailers] →
//   on_response_headers → [on_response_body…] [on_response_trailers] → on_log → on_done → on_delete
// Facts mirrored from Envoy's wasm Context (source/extensions/common/wasm/context.cc) and
// cpp-host's ContextBase:
//  * a header map or body is readable only while its callback runs, and afterwards only if that
//    callback stopped iteration (Envoy drops its pointer on Continue, and continue_stream drops the
//    request-side ones). Outside that window get_header_map_value gives BAD_ARGUMENT; inside
//    on_log the final request/response headers are readable again (NOT_FOUND when absent);
//  * the failure policy is checked before and after every callback (CHECK_FAIL_HTTP);
//  * send_local_response takes effect when the callback returns; its return value is then
//    ignored. A reply sent before the response started is encoded through the filter chain, so
//    this filter's on_response_headers/on_response_body see it; one sent later replaces the
//    response directly;
//  * on_log, on_done and on_delete run at most once each, in that order (Envoy's access logging
//    precedes filter destruction); nothing runs into a failed VM.
import { BufferType, MapType, Status } from './abi.ts';
import type { Direction, HeaderMap, StreamGuestContext } from './context.ts';
import { isGrpcRequest, localReply, wireOrderHttp2 } from './local-reply.ts';
import { encodeProperties } from './properties.ts';
import { asciiLower, checkByteString, toBytes, utf8Decode } from './text.ts';
import type { RootContext, Vm } from './vm.ts';
import type { HeaderList, LocalResponse, PropertyValue, StepResult } from './types.ts';

const CONTINUE: StepResult = Object.freeze({ action: 'continue' });
const PAUSE: StepResult = Object.freeze({ action: 'pause' });
const RESET: StepResult = Object.freeze({ action: 'reset' });
const FAILED_OPEN: StepResult = Object.freeze({ action: 'failed-open' });
const EMPTY = new Uint8Array(0);

/** Which part of a direction a callback is given. */
const enum Part {
  Headers,
  Body,
  Trailers,
}

/** cpp-host: headers 0 Continue and 2 ContinueAndEndStream continue; body/trailers only 0. */
const continues = (r: number, part: Part): boolean => r === 0 || (part === Part.Headers && r === 2);

/**
 * Copies the embedder's headers into a live map, lower-casing names (ASCII, as Envoy) and
 * refusing text that is not a byte string. With HostOptions.checkHeaders false the names are
 * trusted to be lower-case byte strings (what Node's http module delivers) and only copied.
 */
function normalize(into: HeaderMap, headers: HeaderList, what: string, check: boolean): void {
  if (into.length !== 0) into.length = 0;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    let k = h[0];
    const v = h[1];
    if (check) {
      let high = 0;
      let upper = false;
      for (let j = 0; j < k.length; j++) {
        const c = k.charCodeAt(j);
        high |= c;
        if (c >= 65 && c <= 90) upper = true;
      }
      for (let j = 0; j < v.length; j++) high |= v.charCodeAt(j);
      if (high > 0xff) {
        checkByteString(k, `${what} name`);
        checkByteString(v, `${what} value`);
      }
      if (upper) k = asciiLower(k);
    }
    into.push([k, v]);
  }
}

export class HttpStream implements StreamGuestContext {
  readonly id: number;
  readonly vm: Vm;
  readonly root: RootContext;
  readonly isRoot = false;
  /** live maps: the filter's changes are visible here */
  readonly requestHeaderMap: [string, string][] = [];
  readonly responseHeaderMap: [string, string][] = [];
  readonly requestTrailerMap: [string, string][] = [];
  readonly responseTrailerMap: [string, string][] = [];
  localResponse: LocalResponse | undefined;
  paused = false;
  pausedDirection: Direction | undefined;
  resumeCount = 0;
  /** continue_stream calls for this stream that found it not paused (e.g. a double resume) */
  spuriousResumes = 0;
  /** local replies requested after one was already sent (ignored, as the first one wins) */
  extraLocalResponses = 0;
  /**
   * Called when continue_stream resumed the stream (after body data held during the pause, if
   * any, went through the filter: check `paused` and `localResponse` again).
   */
  onResume?: () => void;
  onLocalResponse?: (r: LocalResponse) => void;
  /** called when the stream is reset by proxy_close_stream outside a step */
  onClose?: () => void;
  /** The request is gRPC (Envoy decides when the request headers arrive; local replies follow it). */
  grpcRequest = false;
  /** proxy_close_stream was called */
  closed = false;
  /** reset (proxy_close_stream, or reset()) */
  wasReset = false;
  /** @internal clock reading (ms) when the stream was created */
  readonly startMs: number;
  /** @internal */ readonly properties: Map<string, Uint8Array> | null;
  /** @internal proxy_set_property values */
  filterState: Map<string, Uint8Array> | null = null;

  // lifecycle
  private created = false;
  private logged = false;
  private doneResult: boolean | undefined;
  private deleted = false;
  private requestStarted = false;
  private responseStarted = false;
  /** response.code_details of the response given to responseHeaders. */
  private responseDetails = 'via_upstream';
  private responseSent = false; // response headers continued downstream
  private failReplySent = false;
  // what the filter may touch right now (Envoy's request_headers_ etc. pointers)
  /** @internal */ accessLog = false;
  private reqHeadersLive = false;
  private respHeadersLive = false;
  private reqTrailersLive = false;
  private respTrailersLive = false;
  private reqBody: Uint8Array | null = null;
  private respBody: Uint8Array | null = null;
  private bufferingReq = false;
  private bufferingResp = false;
  // the step currently running
  private inStep = false;
  // body data that arrived while the filter was paused at headers (Envoy StopAllIteration*: the
  // filter's own body callback runs only once it continues)
  private pausedAtHeaders = false;
  private heldBody: Uint8Array | null = null;
  private heldEos = false;
  private localInStep = false;

  /** @internal use ProxyWasmHost.stream() */
  constructor(vm: Vm, id: number, props: Record<string, PropertyValue> | undefined) {
    this.vm = vm;
    this.id = id;
    this.root = vm.root;
    this.startMs = vm.proc.clock.nowMs();
    this.properties = props ? encodeProperties(props) : null;
  }

  /** when the stream started (property request.time), in ns since the epoch */
  get startTimeNs(): bigint {
    const whole = Math.floor(this.startMs);
    return BigInt(whole) * 1_000_000n + BigInt(Math.round((this.startMs - whole) * 1e6));
  }

  /** the current request/response body buffers (as the filter may have changed them) */
  get requestBodyBuffer(): Uint8Array | null {
    return this.reqBody;
  }
  get responseBodyBuffer(): Uint8Array | null {
    return this.respBody;
  }
  get isDeleted(): boolean {
    return this.deleted;
  }

  /** @internal on_context_create(id, root) unless the VM has failed (cpp-host onCreate). */
  create(): void {
    if (this.created) return;
    this.created = true;
    const vm = this.vm;
    if (vm.failed || !vm.fns.onContextCreate) return;
    vm.call(vm.fns.onContextCreate, this, 'proxy_on_context_create', this.id, this.root.id);
    vm.afterCall();
  }

  // ------------------------------------------------------------------ steps

  requestHeaders(headers: HeaderList, endOfStream = true): StepResult {
    this.usable('requestHeaders');
    if (this.requestStarted) throw new Error(`stream ${this.id}: requestHeaders called twice`);
    normalize(this.requestHeaderMap, headers, 'request header', this.vm.proc.checkHeaders);
    this.grpcRequest = isGrpcRequest(this.requestHeaderMap);
    this.requestStarted = true;
    const early = this.early();
    if (early) return early;
    const vm = this.vm;
    const fn = vm.fns.onRequestHeaders;
    if (!fn) return CONTINUE;
    this.reqHeadersLive = true;
    this.beginCallback();
    const r = vm.call(fn, this, 'proxy_on_request_headers', this.id, this.requestHeaderMap.length, endOfStream ? 1 : 0);
    return this.callbackResult(r, 'request', Part.Headers);
  }

  requestBody(body: Uint8Array | string, endOfStream: boolean): StepResult {
    this.usable('requestBody');
    if (!this.requestStarted) throw new Error(`stream ${this.id}: requestBody before requestHeaders`);
    return this.bodyStep('request', toBytes(body), endOfStream);
  }

  requestTrailers(trailers: HeaderList): StepResult {
    this.usable('requestTrailers');
    normalize(this.requestTrailerMap, trailers, 'request trailer', this.vm.proc.checkHeaders);
    const early = this.early();
    if (early) return early;
    const vm = this.vm;
    const fn = vm.fns.onRequestTrailers;
    if (!fn) return CONTINUE;
    this.reqTrailersLive = true;
    this.beginCallback();
    const r = vm.call(fn, this, 'proxy_on_request_trailers', this.id, this.requestTrailerMap.length);
    return this.callbackResult(r, 'request', Part.Trailers);
  }

  /**
   * The response headers. `details` is Envoy's response.code_details: `via_upstream` for what the
   * upstream sent; for the router's own reply to an upstream failure what Envoy sets, e.g.
   * `upstream_reset_before_response_started{connection_termination}` (503) or `response_timeout` (504).
   */
  responseHeaders(headers: HeaderList, endOfStream = true, details = 'via_upstream'): StepResult {
    this.usable('responseHeaders');
    if (this.responseStarted) {
      if (this.localResponse) return this.early()!;
      throw new Error(`stream ${this.id}: responseHeaders called twice`);
    }
    const early = this.early();
    if (early) return early;
    normalize(this.responseHeaderMap, headers, 'response header', this.vm.proc.checkHeaders);
    this.responseStarted = true;
    this.responseDetails = details;
    const vm = this.vm;
    const fn = vm.fns.onResponseHeaders;
    if (!fn) {
      this.responseSent = true;
      return CONTINUE;
    }
    this.respHeadersLive = true;
    this.beginCallback();
    const r = vm.call(fn, this, 'proxy_on_response_headers', this.id, this.responseHeaderMap.length, endOfStream ? 1 : 0);
    return this.callbackResult(r, 'response', Part.Headers);
  }

  responseBody(body: Uint8Array | string, endOfStream: boolean): StepResult {
    this.usable('responseBody');
    if (!this.responseStarted && !this.localResponse && !this.vm.failed) {
      throw new Error(`stream ${this.id}: responseBody before responseHeaders`);
    }
    return this.bodyStep('response', toBytes(body), endOfStream);
  }

  responseTrailers(trailers: HeaderList): StepResult {
    this.usable('responseTrailers');
    normalize(this.responseTrailerMap, trailers, 'response trailer', this.vm.proc.checkHeaders);
    const early = this.early();
    if (early) return early;
    const vm = this.vm;
    const fn = vm.fns.onResponseTrailers;
    if (!fn) return CONTINUE;
    this.respTrailersLive = true;
    this.beginCallback();
    const r = vm.call(fn, this, 'proxy_on_response_trailers', this.id, this.responseTrailerMap.length);
    return this.callbackResult(r, 'response', Part.Trailers);
  }

  /** Downstream/upstream reset: Envoy then runs on_log, on_done, on_delete. */
  reset(): void {
    if (this.deleted) return;
    this.wasReset = true;
    this.paused = false;
    this.finish();
  }

  /** on_log (access-log phase: the final request/response headers are readable). At most once. */
  log(): void {
    if (this.logged || this.deleted) return;
    this.logged = true;
    const vm = this.vm;
    this.create(); // Envoy's log() creates the context if no header callback did
    if (vm.failed || !vm.fns.onLog) return;
    this.clearLive();
    this.accessLog = true;
    vm.call(vm.fns.onLog, this, 'proxy_on_log', this.id);
    this.accessLog = false;
    vm.afterCall();
  }

  /** on_done; returns its result (true when not called). At most once. */
  done(): boolean {
    if (this.doneResult !== undefined) return this.doneResult;
    const vm = this.vm;
    if (this.deleted || !this.created || vm.failed || !vm.fns.onDone) return (this.doneResult = true);
    this.clearLive();
    const r = vm.call(vm.fns.onDone, this, 'proxy_on_done', this.id);
    this.doneResult = vm.failed || r !== 0;
    vm.afterCall();
    return this.doneResult;
  }

  /** on_delete; the context id is then unknown to set_effective_context. At most once. */
  delete(): void {
    if (this.deleted) return;
    const vm = this.vm;
    if (this.doneResult === undefined) this.doneResult = true;
    this.deleted = true;
    this.paused = false;
    this.clearLive();
    if (this.created && !vm.failed && vm.fns.onDelete) {
      vm.call(vm.fns.onDelete, this, 'proxy_on_delete', this.id);
      vm.afterCall();
    }
    vm.contexts.delete(this.id);
  }

  /** on_log → on_done → on_delete, skipping any already run. */
  finish(): void {
    this.log();
    this.done();
    this.delete();
  }

  /** Test helper: call a guest export with this stream as the current (effective) context. */
  invoke(name: string, ...args: (number | bigint)[]): number | bigint | undefined {
    return this.vm.invokeIn(this, name, args);
  }

  // ------------------------------------------------------------------ step plumbing

  private bodyStep(dir: Direction, chunk: Uint8Array, endOfStream: boolean): StepResult {
    const early = this.early();
    if (early) return early;
    if (this.paused && this.pausedAtHeaders && this.pausedDirection === dir) {
      this.heldBody = this.heldBody ? concat(this.heldBody, chunk) : chunk;
      this.heldEos = endOfStream;
      return PAUSE;
    }
    const vm = this.vm;
    const req = dir === 'request';
    const fn = req ? vm.fns.onRequestBody : vm.fns.onResponseBody;
    if (!fn) return { action: 'continue', body: chunk };
    let buffered: Uint8Array;
    if (req) buffered = this.reqBody = this.bufferingReq && this.reqBody ? concat(this.reqBody, chunk) : chunk;
    else buffered = this.respBody = this.bufferingResp && this.respBody ? concat(this.respBody, chunk) : chunk;
    this.beginCallback();
    const r = vm.call(fn, this, req ? 'proxy_on_request_body' : 'proxy_on_response_body', this.id, buffered.length, endOfStream ? 1 : 0);
    return this.callbackResult(r, dir, Part.Body);
  }

  private usable(what: string): void {
    if (this.deleted) throw new Error(`stream ${this.id}: ${what} after on_delete`);
  }

  /** The result when the filter must not be called: failed VM, earlier local reply, reset. */
  private early(): StepResult | undefined {
    if (this.wasReset) return RESET;
    if (this.vm.failed) return this.failResult();
    if (this.localResponse) return { action: 'local-response', localResponse: this.localResponse };
    return undefined;
  }

  /**
   * `trappedHere`: the VM failed inside this stream's callback. Envoy answers that stream 503 under
   * either policy (seen in test/envoy/failure.test.ts); fail open only lets later streams skip the
   * failed filter.
   */
  private failResult(trappedHere = false): StepResult {
    if (this.vm.proc.failPolicy === 'open' && !trappedHere) return FAILED_OPEN;
    if (!this.failReplySent && !this.localResponse) {
      this.failReplySent = true;
      this.paused = false;
      // Envoy Context::failStream: 503, empty body, gRPC UNAVAILABLE, details wasm_fail_stream;
      // it does not pass through the failed filter.
      this.localResponse = localReply({ status: 503, body: EMPTY, extra: [], details: 'wasm_fail_stream', grpcStatus: 14, grpc: this.grpcRequest });
      this.onLocalResponse?.(this.localResponse);
    }
    return { action: 'failed-closed', localResponse: this.localResponse! };
  }

  private beginCallback(): void {
    this.inStep = true;
    this.localInStep = false;
  }

  /** What the step reports once its callback returned `r` (and the after-call actions ran). */
  private callbackResult(r: number, dir: Direction, part: Part): StepResult {
    const vm = this.vm;
    if (vm.failed) {
      this.inStep = false;
      this.clearLive();
      return this.failResult(true);
    }
    const stopped = vm.stopNext || !continues(r >>> 0, part);
    let body: Uint8Array | undefined;
    if (part === Part.Body) {
      // Envoy decodeData/encodeData: StopIterationAndBuffer (1) keeps accumulating.
      if (dir === 'request') this.bufferingReq = !stopped ? false : r >>> 0 === 1;
      else this.bufferingResp = !stopped ? false : r >>> 0 === 1;
    }
    if (stopped) {
      this.paused = true;
      this.pausedDirection = dir;
      this.pausedAtHeaders = part === Part.Headers;
    } else {
      if (part === Part.Body) body = (dir === 'request' ? this.reqBody : this.respBody) ?? EMPTY;
      this.dropPhase(dir, part);
      if (this.pausedDirection === dir) this.paused = false;
      if (dir === 'response' && part === Part.Headers) this.responseSent = true;
    }
    vm.afterCall();
    this.inStep = false;
    if (vm.failed) return this.failResult(true);
    if (this.wasReset) return RESET;
    if (this.localInStep) return { action: 'local-response', localResponse: this.localResponse! };
    if (this.paused) return PAUSE;
    if (stopped && part === Part.Body) body = (dir === 'request' ? this.reqBody : this.respBody) ?? EMPTY;
    return body ? { action: 'continue', body } : CONTINUE;
  }

  /** Envoy forgets the phase's map/buffer when the callback continues. */
  private dropPhase(dir: Direction, part: Part): void {
    if (dir === 'request') {
      if (part === Part.Headers) this.reqHeadersLive = false;
      else if (part === Part.Trailers) this.reqTrailersLive = false;
      else this.reqBody = null;
    } else {
      if (part === Part.Headers) this.respHeadersLive = false;
      else if (part === Part.Trailers) this.respTrailersLive = false;
      else this.respBody = null;
    }
  }

  private clearLive(): void {
    this.reqHeadersLive = this.respHeadersLive = this.reqTrailersLive = this.respTrailersLive = false;
  }

  // ------------------------------------------------------------------ deferred actions

  /** @internal proxy_continue_stream(type) was called with this stream effective. */
  continueRequested(dir: Direction): void {
    // Envoy drops the request-side pointers immediately, whichever direction is continued.
    this.reqHeadersLive = false;
    this.reqTrailersLive = false;
    this.reqBody = null;
    this.vm.defer(() => this.deliverContinue(dir));
  }

  /** @internal */
  deliverContinue(dir: Direction): void {
    if (this.deleted || this.wasReset || this.localResponse) return;
    if (this.paused && this.pausedDirection === dir && !this.logged) {
      this.paused = false;
      if (dir === 'response') {
        this.responseSent = true;
        this.respHeadersLive = false;
        this.respBody = null;
      }
      // A continue requested by the stream's own callback just undoes its pause (the step
      // then reports 'continue'); later ones are resumes.
      if (!this.inStep) {
        // Envoy now dispatches body data that arrived during the pause to this filter.
        const held = this.heldBody;
        if (held) {
          this.heldBody = null;
          this.bodyStep(dir, held, this.heldEos);
        }
        this.resumeCount++;
        this.onResume?.();
      }
    } else {
      this.spuriousResumes++;
      this.vm.spuriousResumes++;
    }
  }

  /** @internal proxy_send_local_response with this stream effective. */
  localRequested(reply: LocalResponse): void {
    this.vm.defer(() => this.deliverLocalResponse(reply));
  }

  /** @internal */
  deliverLocalResponse(reply: LocalResponse): void {
    if (this.deleted || this.wasReset) return;
    if (this.logged) {
      this.vm.proc.hostLog(this.vm.index, 'warn', `stream ${this.id}: local response after the stream completed: ignored`);
      return;
    }
    if (this.localResponse) {
      this.extraLocalResponses++;
      this.vm.proc.hostLog(this.vm.index, 'warn', `stream ${this.id}: second local response (${reply.status}) ignored`);
      return;
    }
    const vm = this.vm;
    if (this.responseSent) {
      // Envoy cannot replace a response whose headers went downstream: it resets the stream.
      vm.proc.hostLog(vm.index, 'warn', `stream ${this.id}: local response after the response started: stream reset`);
      this.deliverClose();
      return;
    }
    const throughFilter = !this.responseStarted && vm.proc.localReplyThroughFilter;
    this.localResponse = reply;
    this.paused = false;
    if (this.inStep) this.localInStep = true;
    this.responseStarted = true;
    this.responseSent = true;
    if (throughFilter) {
      const map = this.responseHeaderMap;
      map.length = 0;
      for (const h of reply.headers) map.push([h[0], h[1]]);
      const fnH = vm.fns.onResponseHeaders;
      if (fnH) {
        this.respHeadersLive = true;
        vm.call(fnH, this, 'proxy_on_response_headers', this.id, map.length, reply.body.length === 0 ? 1 : 0);
        this.respHeadersLive = false;
        vm.afterCall();
      }
      const fnB = vm.fns.onResponseBody;
      if (!vm.failed && fnB && reply.body.length !== 0) {
        this.respBody = reply.body;
        vm.call(fnB, this, 'proxy_on_response_body', this.id, reply.body.length, 1);
        reply.body = this.respBody ?? reply.body;
        reply.bodyText = utf8Decode(reply.body);
        this.respBody = null;
        vm.afterCall();
      }
      reply.headers = map.map((h) => [h[0], h[1]]);
    } else {
      this.responseHeaderMap.length = 0;
      for (const h of reply.headers) this.responseHeaderMap.push([h[0], h[1]]);
    }
    if (reply.grpc) reply.headers = wireOrderHttp2(reply.headers);   // gRPC is HTTP/2: as sent
    this.onLocalResponse?.(reply);
  }

  /** @internal proxy_close_stream(HTTP_REQUEST|HTTP_RESPONSE) with this stream effective. */
  closeRequested(): void {
    this.vm.defer(() => this.deliverClose());
  }

  /** @internal Envoy resets the stream: access log, then filter destruction. */
  deliverClose(): void {
    if (this.deleted || this.wasReset || this.logged) return;
    this.closed = true;
    this.wasReset = true;
    this.paused = false;
    if (!this.inStep) this.onClose?.();
    this.finish();
  }

  // ------------------------------------------------------------------ what host functions see

  /** @internal get_header_map_value / get_header_map_pairs */
  constMap(type: number): HeaderMap | null {
    switch (type) {
      case MapType.HTTP_REQUEST_HEADERS:
        return (this.accessLog ? this.requestStarted : this.reqHeadersLive) ? this.requestHeaderMap : null;
      case MapType.HTTP_REQUEST_TRAILERS:
        return !this.accessLog && this.reqTrailersLive ? this.requestTrailerMap : null;
      case MapType.HTTP_RESPONSE_HEADERS:
        return (this.accessLog ? this.responseStarted : this.respHeadersLive) ? this.responseHeaderMap : null;
      case MapType.HTTP_RESPONSE_TRAILERS:
        return (this.accessLog ? this.responseTrailerMap.length > 0 : this.respTrailersLive) ? this.responseTrailerMap : null;
      default:
        return this.root.constMap(type);
    }
  }

  /** @internal add/replace/remove/set_header_map_pairs/get_header_map_size */
  mutMap(type: number): HeaderMap | null {
    switch (type) {
      case MapType.HTTP_REQUEST_HEADERS:
        return this.reqHeadersLive ? this.requestHeaderMap : null;
      case MapType.HTTP_REQUEST_TRAILERS:
        return this.reqTrailersLive ? this.requestTrailerMap : null;
      case MapType.HTTP_RESPONSE_HEADERS:
        return this.respHeadersLive ? this.responseHeaderMap : null;
      case MapType.HTTP_RESPONSE_TRAILERS:
        return this.respTrailersLive ? this.responseTrailerMap : null;
      default:
        return null;
    }
  }

  /** @internal null = NOT_FOUND */
  getBuffer(type: number): Uint8Array | null {
    if (type === BufferType.HTTP_REQUEST_BODY) return this.reqBody ?? EMPTY;
    if (type === BufferType.HTTP_RESPONSE_BODY) return this.respBody ?? EMPTY;
    if (type === BufferType.PLUGIN_CONFIGURATION) return null; // only the root context is configured
    return this.root.getBuffer(type);
  }

  /** @internal proxy_set_buffer_bytes, Envoy Buffer::copyFrom: prepend, replace all, or append. */
  setBuffer(type: number, start: number, len: number, data: Uint8Array): number {
    const request = type === BufferType.HTTP_REQUEST_BODY;
    const cur = request ? this.reqBody : type === BufferType.HTTP_RESPONSE_BODY ? this.respBody : null;
    if (!cur) return Status.BAD_ARGUMENT;
    let next: Uint8Array;
    if (start === 0) {
      if (len === 0) next = concat(data, cur);
      else if (len >= cur.length) next = data.slice();
      else return Status.BAD_ARGUMENT;
    } else if (start >= cur.length) {
      next = concat(cur, data);
    } else {
      return Status.BAD_ARGUMENT;
    }
    if (request) this.reqBody = next;
    else this.respBody = next;
    return Status.OK;
  }

  // StreamInfoView (properties)
  /** @internal */
  requestHeaderView(): HeaderMap | null {
    return this.requestStarted ? this.requestHeaderMap : null;
  }
  /** @internal */
  responseCode(): number | null {
    if (this.localResponse) return this.localResponse.status;
    if (!this.responseStarted) return null;
    for (const h of this.responseHeaderMap) if (h[0] === ':status') return Number.parseInt(h[1], 10) || 0;
    return null;
  }
  /** @internal */
  responseCodeDetails(): string | null {
    return this.localResponse ? this.localResponse.details : this.responseStarted ? this.responseDetails : null;
  }
  /** @internal */
  responseHeaderView(): HeaderMap | null {
    return this.responseStarted ? this.responseHeaderMap : null;
  }
}

/** A new stream context on `vm` (ProxyWasmHost.stream): on_context_create(id, root). */
export function openStream(vm: Vm, properties: Record<string, PropertyValue> | undefined): HttpStream {
  const s = new HttpStream(vm, vm.allocContextId(), properties);
  vm.contexts.set(s.id, s);
  s.create();
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
