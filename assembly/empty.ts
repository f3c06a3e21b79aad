// The benchmark floor: the same bindings and build flags as the filter, and a filter that does
// nothing. Its cost per request is what the host and the ABI crossings cost on their own.
import "./abi/abort";
import { RootContext, setRootContextFactory } from "./abi";
export { proxy_abi_version_0_2_1, proxy_on_context_create, proxy_on_vm_start, proxy_on_configure,
  proxy_on_tick, proxy_on_request_headers, proxy_on_response_headers, proxy_on_log,
  proxy_on_delete } from "./abi/exports";
export { malloc, proxy_on_memory_allocate } from "./abi/memory";

setRootContextFactory((id: u32): RootContext => new RootContext());
