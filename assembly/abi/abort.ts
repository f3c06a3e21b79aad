// AssemblyScript's abort handler (wired with `--use abort=abort_log_trap`). Without it the module
// would import env.abort, which Envoy does not provide, and fail to load. Log at critical, then trap:
// Envoy marks this worker's VM failed and applies the plugin's failure policy.
import { proxy_log } from "./imports";
import { LogLevel } from "./enums";

// @ts-ignore: decorator
@global
export function abort_log_trap(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "sergo: abort: ";
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(LogLevel.CRITICAL, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
