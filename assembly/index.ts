// Entry of the sergo proxy-wasm module (root_id "sergo"). See assembly/root.ts and assembly/stream.ts.
import "./abi/abort";
import { RootContext, setRootContextFactory } from "./abi";
import { SergoRoot } from "./root";
export { proxy_abi_version_0_2_1, proxy_on_context_create, proxy_on_vm_start, proxy_on_configure,
  proxy_on_tick, proxy_on_http_call_response, proxy_on_request_headers, proxy_on_response_headers, proxy_on_log,
  proxy_on_delete } from "./abi/exports";
export { malloc, proxy_on_memory_allocate } from "./abi/memory";

setRootContextFactory((id: u32): RootContext => new SergoRoot());
