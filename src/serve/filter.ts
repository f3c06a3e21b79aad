// The filter as `sergo serve` runs it: the module in a ProxyWasmHost set up as Envoy runs a wasm
// HTTP filter (N worker VMs, one shared-data store, ticks on real timers, the failure policy,
// proxy_http_call to the rate-limit service), its log going to serve's logger. While the filter is
// (re)configured its warnings and errors are kept instead, for the one line that says why a
// configuration was refused (every VM says the same).
import { ProxyWasmHost, SystemClock, type HttpCallHandler, type LogLevel as GuestLogLevel } from '../host/index.ts';
import type { Logger, LogLevel } from './log.ts';

// The filter logs at info once per VM and configure ("configuration accepted"): serve's own reload
// line says it once, so the filter's info lines are shown at debug.
const GUEST_LEVEL: Record<GuestLogLevel, LogLevel> = {
  trace: 'debug',
  debug: 'debug',
  info: 'debug',
  warn: 'warn',
  error: 'error',
  critical: 'error',
};

export interface FilterSettings {
  module: WebAssembly.Module;
  vms: number;
  /** the first configuration */
  configuration: string;
  failPolicy: 'open' | 'closed';
  /** what proxy_get_log_level tells the filter (default info) */
  logLevel: LogLevel | undefined;
  logger: Logger;
  httpCallHandler: HttpCallHandler | undefined;
}

/** Whether the filter took a configuration, and if not what it said. */
export interface Configured {
  ok: boolean;
  complaints: string[];
}

export class ServedFilter {
  readonly host: ProxyWasmHost;
  private capture: string[] | undefined;

  constructor(s: FilterSettings) {
    this.host = new ProxyWasmHost({
      module: s.module,
      vms: s.vms,
      rootId: 'sergo',
      configuration: s.configuration,
      clock: new SystemClock(),
      realTimers: true,
      failPolicy: s.failPolicy,
      logLevel: s.logLevel ?? 'info',
      checkHeaders: false,
      maxLogs: 1000,
      httpCallHandler: s.httpCallHandler,
      onLog: (vm, level, message) => {
        if (this.capture && (level === 'error' || level === 'critical' || level === 'warn')) {
          if (!this.capture.includes(message)) this.capture.push(message);
          return;
        }
        s.logger[GUEST_LEVEL[level]](`filter (vm ${vm}): ${message}`);
      },
    });
  }

  /** Every VM: instantiate, start, take the first configuration. */
  start(): Configured {
    return this.capturing(() => this.host.start());
  }

  /** A new configuration on every VM; refused, the previous one keeps running. */
  configure(json: string): Configured {
    return this.capturing(() => this.host.configure(json));
  }

  private capturing(run: () => boolean): Configured {
    this.capture = [];
    try {
      return { ok: run(), complaints: this.capture };
    } finally {
      this.capture = undefined;
    }
  }
}
