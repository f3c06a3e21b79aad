// Public types of the Node proxy-wasm host.
import type { LogLevel } from './abi.ts';
import type { Clock } from './clock.ts';
import type { MetricsStore } from './metrics.ts';
import type { SharedDataStore } from './shared-data.ts';

export type { LogLevel };

/**
 * Header name/value pairs. Text is a *byte string* (one char per byte, like Node's http module);
 * names are lower-cased by the host as Envoy does.
 */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface LocalResponse {
  status: number;
  body: Uint8Array;
  /** body decoded as UTF-8 */
  bodyText: string;
  /**
   * The response headers as sent: ':status', the guest's additional headers (lower-cased keys),
   * 'content-length' and 'content-type: text/plain' for a non-empty body (for gRPC see `grpc`), and
   * whatever the filter's own on_response_headers changed when the reply passed through it.
   */
  headers: [string, string][];
  /** exactly the additional headers the guest passed to proxy_send_local_response */
  additionalHeaders: [string, string][];
  /** response code details; Envoy replaces whitespace with '_' */
  details: string;
  /** the guest's grpc_status argument as a signed i32 (-1 = none) */
  grpcStatus: number;
  /**
   * The request was gRPC (content-type application/grpc or application/grpc+…), so the reply went
   * out as Envoy sends it then: trailers-only, ':status' 200, 'grpc-status', the body as
   * 'grpc-message' (percent-encoded), no body. `status`, `body` and `headers` are what was sent
   * (`headers` in HTTP/2's wire order: the values of one name together, where it first appears).
   */
  grpc: boolean;
}

/**
 * What a stream step did:
 *  continue        the filter let the data through (for a body step `body` holds the data to forward)
 *  pause           the filter stopped iteration; wait for HttpStream.onResume (or, for a body chunk
 *                  with end_of_stream false, keep delivering chunks: the filter is buffering)
 *  local-response  the filter replied locally (now or earlier); `localResponse` is the reply
 *  failed-open     the VM has failed; fail_open: the filter is skipped
 *  failed-closed   the VM has failed; fail_closed: a 503 local reply (details wasm_fail_stream)
 *  reset           the stream was reset (proxy_close_stream, or HttpStream.reset())
 */
export type StepAction = 'continue' | 'pause' | 'local-response' | 'failed-open' | 'failed-closed' | 'reset';
export interface StepResult {
  action: StepAction;
  localResponse?: LocalResponse;
  body?: Uint8Array;
}

/** A property value: text (UTF-8), raw bytes, an int64 (8 bytes LE) or a bool (1 byte). */
export type PropertyValue = string | Uint8Array | bigint | boolean;

export interface HttpCallRequest {
  cluster: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  timeoutMs: number;
}
export interface HttpCallResponse {
  headers: HeaderList;
  body?: Uint8Array | string;
  trailers?: HeaderList;
}
/** Resolve null (or reject) for a failed call (reset): the guest then sees num_headers 0. */
export type HttpCallHandler = (vm: number, call: HttpCallRequest) => Promise<HttpCallResponse | null>;

export interface LogEntry {
  vm: number;
  level: LogLevel;
  message: string;
  /** 'guest': proxy_log / fd_write; 'host': the host's own diagnostics (traps, malformed data). */
  source: 'guest' | 'host';
}

export interface HostCall {
  vm: number;
  name: string;
  args: (number | bigint)[];
  result: number | bigint | undefined;
}

export interface HostOptions {
  module: WebAssembly.Module;
  /** number of worker VMs (instances of the module), default 1 */
  vms?: number;
  /** plugin root_id, default 'sergo' */
  rootId?: string;
  /** plugin name (property plugin_name), default '' */
  pluginName?: string;
  /** vm_id (property plugin_vm_id and the shared-data namespace), default '' as in Istio */
  vmId?: string;
  configuration?: string | Uint8Array;
  vmConfiguration?: string | Uint8Array;
  /** default new ManualClock() (or a SystemClock with realTimers) */
  clock?: Clock;
  /** default 'closed' */
  failPolicy?: 'open' | 'closed';
  /** what proxy_get_log_level returns, default 'info' */
  logLevel?: LogLevel;
  onLog?: (vm: number, level: LogLevel, message: string) => void;
  /** extra properties by dotted path, e.g. 'xds.node.id' (or NUL-joined) */
  properties?: Record<string, PropertyValue>;
  /** false (default): ticks fire only from host.advance(); true: from real timers */
  realTimers?: boolean;
  /** answers proxy_http_call; absent → every cluster is unknown (BAD_ARGUMENT) */
  httpCallHandler?: HttpCallHandler;
  /** first context id of VM 0; VM i starts at firstContextId + i (default 1) */
  firstContextId?: number;
  /**
   * Envoy encodes a local reply sent during the request phase through the filter chain, so the
   * filter's own on_response_headers/on_response_body see it. Default true.
   */
  localReplyThroughFilter?: boolean;
  /** share a store between hosts (plugins of one proxy); default: a new store per host */
  sharedData?: SharedDataStore;
  metricsStore?: MetricsStore;
  /** WASI environment variables (Envoy: vm_config.environment_variables) */
  environment?: Record<string, string>;
  /**
   * true (default): header names given to stream steps are ASCII lower-cased and all header text is
   * checked to be byte strings. false: trust the caller (e.g. names from Node's http module, which
   * are already lower-case byte strings) and skip the per-character work.
   */
  checkHeaders?: boolean;
  /** record every host call in host.calls (slower) */
  recordCalls?: boolean;
  /** keep at most this many log entries (oldest dropped), default 100000 */
  maxLogs?: number;
}
