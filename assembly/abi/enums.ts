// Enumerations of proxy-wasm ABI 0.2.1 (exact values from the spec).

export namespace Status {
  export const OK: u32 = 0;
  export const NOT_FOUND: u32 = 1;
  export const BAD_ARGUMENT: u32 = 2;
  export const EMPTY: u32 = 7;
  export const CAS_MISMATCH: u32 = 8;
}

export namespace Action {
  export const CONTINUE: u32 = 0;
  export const PAUSE: u32 = 1;
}

export namespace LogLevel {
  export const TRACE: u32 = 0;
  export const DEBUG: u32 = 1;
  export const INFO: u32 = 2;
  export const WARN: u32 = 3;
  export const ERROR: u32 = 4;
  export const CRITICAL: u32 = 5;
}

export namespace BufferType {
  export const HTTP_REQUEST_BODY: u32 = 0;
  export const HTTP_RESPONSE_BODY: u32 = 1;
  export const VM_CONFIGURATION: u32 = 6;
  export const PLUGIN_CONFIGURATION: u32 = 7;
}

export namespace MapType {
  export const HTTP_REQUEST_HEADERS: u32 = 0;
  export const HTTP_RESPONSE_HEADERS: u32 = 2;
  export const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
}

export namespace StreamType {
  export const HTTP_REQUEST: u32 = 0;
  export const HTTP_RESPONSE: u32 = 1;
}

export namespace MetricType {
  export const COUNTER: u32 = 0;
  export const GAUGE: u32 = 1;
  export const HISTOGRAM: u32 = 2;
}
