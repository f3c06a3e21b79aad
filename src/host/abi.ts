// Proxy-Wasm ABI 0.2.1 as Envoy (proxy-wasm-cpp-host) links it: status codes and enumerations,
// the exact import names Envoy registers for a 0.2.1 module, and the function signatures it
// checks when linking imports and looking up exported callbacks.
// Facts: proxy-wasm/spec abi-versions/v0.2.1; cpp-host src/wasm.cc registerCallbacks(),
// include/proxy-wasm/exports.h FOR_ALL_HOST_FUNCTIONS / FOR_ALL_WASI_FUNCTIONS.

/** proxy_status_t (cpp-host WasmResult). */
export const Status = {
  OK: 0,
  NOT_FOUND: 1,
  BAD_ARGUMENT: 2,
  SERIALIZATION_FAILURE: 3,
  PARSE_FAILURE: 4,
  BAD_EXPRESSION: 5,
  INVALID_MEMORY_ACCESS: 6,
  EMPTY: 7,
  CAS_MISMATCH: 8,
  RESULT_MISMATCH: 9,
  INTERNAL_FAILURE: 10,
  BROKEN_CONNECTION: 11,
  UNIMPLEMENTED: 12,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LogLevelNum: Readonly<Record<LogLevel, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  critical: 5,
};

export const BufferType = {
  HTTP_REQUEST_BODY: 0,
  HTTP_RESPONSE_BODY: 1,
  DOWNSTREAM_DATA: 2,
  UPSTREAM_DATA: 3,
  HTTP_CALL_RESPONSE_BODY: 4,
  GRPC_RECEIVE_BUFFER: 5,
  VM_CONFIGURATION: 6,
  PLUGIN_CONFIGURATION: 7,
  CALL_DATA: 8,
  MAX: 8,
} as const;

export const MapType = {
  HTTP_REQUEST_HEADERS: 0,
  HTTP_REQUEST_TRAILERS: 1,
  HTTP_RESPONSE_HEADERS: 2,
  HTTP_RESPONSE_TRAILERS: 3,
  GRPC_RECEIVE_INITIAL_METADATA: 4,
  GRPC_RECEIVE_TRAILING_METADATA: 5,
  HTTP_CALL_RESPONSE_HEADERS: 6,
  HTTP_CALL_RESPONSE_TRAILERS: 7,
  MAX: 7,
} as const;

export const StreamType = { HTTP_REQUEST: 0, HTTP_RESPONSE: 1, DOWNSTREAM: 2, UPSTREAM: 3, MAX: 3 } as const;

export const MetricType = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 2, MAX: 2 } as const;

export const WasiErrno = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, NOENT: 44, NOSYS: 52, NOTSUP: 58 } as const;

/** Limits from cpp-host include/proxy-wasm/limits.h. */
export const Limits = {
  PAIRS_MAX_BYTES: 1024 * 1024,
  PAIRS_MAX_COUNT: 1024,
  RANDOM_GET_MAX_BYTES: 64 * 1024,
} as const;

/** A wasm function type written compactly: params then results, 'i' = i32, 'I' = i64. */
export interface Sig {
  readonly params: string;
  readonly results: string;
}
const sig = (params: string, results = 'i'): Sig => ({ params, results });

/**
 * Every `env` function Envoy registers for a module that exports proxy_abi_version_0_2_1:
 * FOR_ALL_HOST_FUNCTIONS, the 0.2.1-specific trio, and the two emscripten helpers cpp-host
 * always links. The 0.1.0-only names (proxy_get_configuration, proxy_continue_request,
 * proxy_continue_response, proxy_clear_route_cache) are absent, so importing them fails to link.
 */
export const ENV_IMPORT_SIGNATURES: Readonly<Record<string, Sig>> = {
  proxy_log: sig('iii'),
  proxy_get_status: sig('iii'),
  proxy_set_property: sig('iiii'),
  proxy_get_property: sig('iiii'),
  proxy_send_local_response: sig('iiiiiiii'),
  proxy_get_shared_data: sig('iiiii'),
  proxy_set_shared_data: sig('iiiii'),
  proxy_register_shared_queue: sig('iii'),
  proxy_resolve_shared_queue: sig('iiiii'),
  proxy_dequeue_shared_queue: sig('iii'),
  proxy_enqueue_shared_queue: sig('iii'),
  proxy_get_header_map_value: sig('iiiii'),
  proxy_add_header_map_value: sig('iiiii'),
  proxy_replace_header_map_value: sig('iiiii'),
  proxy_remove_header_map_value: sig('iii'),
  proxy_get_header_map_pairs: sig('iii'),
  proxy_set_header_map_pairs: sig('iii'),
  proxy_get_header_map_size: sig('ii'),
  proxy_get_buffer_status: sig('iii'),
  proxy_get_buffer_bytes: sig('iiiii'),
  proxy_set_buffer_bytes: sig('iiiii'),
  proxy_http_call: sig('iiiiiiiiii'),
  proxy_grpc_call: sig('iiiiiiiiiiii'),
  proxy_grpc_stream: sig('iiiiiiiii'),
  proxy_grpc_close: sig('i'),
  proxy_grpc_cancel: sig('i'),
  proxy_grpc_send: sig('iiii'),
  proxy_set_tick_period_milliseconds: sig('i'),
  proxy_get_current_time_nanoseconds: sig('i'),
  proxy_define_metric: sig('iiii'),
  proxy_increment_metric: sig('iI'),
  proxy_record_metric: sig('iI'),
  proxy_get_metric: sig('ii'),
  proxy_set_effective_context: sig('i'),
  proxy_done: sig(''),
  proxy_call_foreign_function: sig('iiiiii'),
  // 0.2.x / 0.2.1 only
  proxy_continue_stream: sig('i'),
  proxy_close_stream: sig('i'),
  proxy_get_log_level: sig('i'),
  // cpp-host links these for every module
  pthread_equal: sig('ii'),
  emscripten_notify_memory_growth: sig('i', ''),
};

/** Functions Envoy registers under both wasi_snapshot_preview1 and wasi_unstable. */
export const WASI_IMPORT_SIGNATURES: Readonly<Record<string, Sig>> = {
  fd_write: sig('iiii'),
  fd_read: sig('iiii'),
  fd_seek: sig('iIii'),
  fd_close: sig('i'),
  fd_fdstat_get: sig('ii'),
  environ_get: sig('ii'),
  environ_sizes_get: sig('ii'),
  args_get: sig('ii'),
  args_sizes_get: sig('ii'),
  clock_time_get: sig('iIi'),
  random_get: sig('ii'),
  proc_exit: sig('i', ''),
  path_open: sig('iiiiiIIii'),
  fd_prestat_get: sig('ii'),
  fd_prestat_dir_name: sig('iii'),
};

export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

/** 0.1.0-only imports: Envoy does not link them for a 0.2.1 module. */
export const ABI_0_1_0_ONLY_IMPORTS: ReadonlySet<string> = new Set([
  'proxy_get_configuration',
  'proxy_continue_request',
  'proxy_continue_response',
  'proxy_clear_route_cache',
]);

/** Signatures cpp-host requires of exported callbacks it looks up ("Bad function signature for"). */
export const EXPORT_SIGNATURES: Readonly<Record<string, Sig>> = {
  _initialize: sig('', ''),
  _start: sig('', ''),
  main: sig('ii'),
  malloc: sig('i'),
  proxy_on_memory_allocate: sig('i'),
  proxy_abi_version_0_2_1: sig('', ''),
  proxy_validate_configuration: sig('ii'),
  proxy_on_vm_start: sig('ii'),
  proxy_on_configure: sig('ii'),
  proxy_on_tick: sig('i', ''),
  proxy_on_context_create: sig('ii', ''),
  proxy_on_new_connection: sig('i'),
  proxy_on_downstream_data: sig('iii'),
  proxy_on_upstream_data: sig('iii'),
  proxy_on_downstream_connection_close: sig('ii', ''),
  proxy_on_upstream_connection_close: sig('ii', ''),
  proxy_on_request_headers: sig('iii'),
  proxy_on_request_body: sig('iii'),
  proxy_on_request_trailers: sig('ii'),
  proxy_on_request_metadata: sig('ii'),
  proxy_on_response_headers: sig('iii'),
  proxy_on_response_body: sig('iii'),
  proxy_on_response_trailers: sig('ii'),
  proxy_on_response_metadata: sig('ii'),
  proxy_on_http_call_response: sig('iiiii', ''),
  proxy_on_grpc_receive_initial_metadata: sig('iii', ''),
  proxy_on_grpc_receive_trailing_metadata: sig('iii', ''),
  proxy_on_grpc_receive: sig('iii', ''),
  proxy_on_grpc_close: sig('iii', ''),
  proxy_on_queue_ready: sig('ii', ''),
  proxy_on_foreign_function: sig('iii', ''),
  proxy_on_done: sig('i'),
  proxy_on_log: sig('i', ''),
  proxy_on_delete: sig('i', ''),
};

/** env.* names Envoy links for an ABI 0.2.1 module. */
export const ENVOY_ENV_IMPORTS_ABI_0_2_1: ReadonlySet<string> = new Set(Object.keys(ENV_IMPORT_SIGNATURES));

/** Names provided under wasi_snapshot_preview1 and wasi_unstable. */
export const WASI_IMPORTS: ReadonlySet<string> = new Set(Object.keys(WASI_IMPORT_SIGNATURES));

/**
 * Host calls cpp-host allows while the module initialises (_initialize/main/_start); any other
 * call traps with "restricted_callback" in Envoy's V8 runtime.
 */
export const ALLOWED_DURING_INIT: ReadonlySet<string> = new Set([
  'env.proxy_log',
  'fd_write',
  'args_sizes_get',
  'args_get',
  'environ_sizes_get',
  'environ_get',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'clock_time_get',
  'random_get',
]);

/** Host calls cpp-host allows from inside the guest allocator (malloc). */
export const ALLOWED_DURING_ALLOC: ReadonlySet<string> = new Set(['env.proxy_log', 'fd_write', 'clock_time_get']);
