// Public API of the Node proxy-wasm host (ABI 0.2.1, Envoy semantics).
export {
  Status,
  BufferType,
  MapType,
  StreamType,
  MetricType,
  LOG_LEVELS,
  ENVOY_ENV_IMPORTS_ABI_0_2_1,
  WASI_IMPORTS,
  type LogLevel,
} from './abi.ts';
export { HostLoadError, checkModule, compileModule } from './check.ts';
export { ManualClock, SystemClock, DEFAULT_EPOCH_MS, type Clock } from './clock.ts';
export { ProxyWasmHost, type SharedDataView } from './host.ts';
export { HttpStream } from './stream.ts';
export { Vm } from './vm.ts';
export { SharedDataStore } from './shared-data.ts';
export { MetricsStore, type MetricKind } from './metrics.ts';
export { encodePairs, decodePairs } from './pairs.ts';
export type {
  HeaderList,
  LocalResponse,
  StepAction,
  StepResult,
  HostOptions,
  PropertyValue,
  HttpCallHandler,
  HttpCallRequest,
  HttpCallResponse,
  LogEntry,
  HostCall,
} from './types.ts';
