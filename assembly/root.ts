// The root context of the sergo filter (one per plugin configuration per worker VM): loads the
// configuration, forwards its ticks to the worker (which releases waiting requests), and pools
// stream contexts. Rate-limit service answers never pass through here: the ABI layer hands each one
// to the strategy that made the call (abi/callouts.ts).
import {
  RootContext, StreamContext, LogLevel, BufferType, Status, Bytes, log, refreshLogLevel, nowMs, readBuffer, hostPtr, hostSize,
  releaseHostBuffer,
} from "./abi";
import { Config, ConfigDecoder } from "./config/config";
import { setAllowOnCasExhausted } from "./strategies/strategy";
import { setCasRetries } from "./state/shared";
import { filterMetrics } from "./metrics";
import { buildActive } from "./active";
import { Worker } from "./worker";
import { SergoStream } from "./stream";
import { digestOf, firstToRecord } from "./state/once";

/** The digest of the last configuration counted in sergo.config_accepted (state/once.ts). */
const ACCEPTED = new Bytes("sergo:config_accepted");

export class SergoRoot extends RootContext {
  worker: Worker<SergoStream> = new Worker<SergoStream>();
  private pool: SergoStream[] = [];
  /** The digest of the configuration being decoded. */
  private digest: u64 = 0;

  onConfigure(size: usize): bool {
    refreshLogLevel();
    const worker = this.worker;
    if (worker.metrics === null) worker.metrics = filterMetrics();
    const metrics = worker.metrics!;
    const decoder = new ConfigDecoder();
    const config = this.decode(size, decoder);
    this.leftGarbage = true;   // refused: whatever it decoded
    if (config === null) {
      metrics.inc(metrics.configRejected);
      log(LogLevel.CRITICAL, "sergo: configuration rejected: " + decoder.error +
        (worker.active !== null ? " (the previous configuration keeps serving)" : ""));
      return false;
    }
    setCasRetries(config.options.casRetries);
    setAllowOnCasExhausted(config.options.allowOnCasExhausted);
    // Requests waiting under the previous configuration keep their place: the worker's queue and
    // tick do not depend on the configuration.
    const active = buildActive(config);
    worker.active = active;
    this.leftGarbage = active.replacedRules;
    // Once per configuration, not once per VM: the first VM to record its digest counts it.
    if (firstToRecord(ACCEPTED, this.digest)) metrics.inc(metrics.configAccepted);
    log(LogLevel.INFO, "sergo: configuration accepted: " + config.rules.length.toString() + " rules on " +
      active.resources.length.toString() + " resources" +
      (active.unchanged >= 0 ? " (" + active.unchanged.toString() + " unchanged)" : ""));
    return true;
  }

  private decode(size: usize, decoder: ConfigDecoder): Config | null {
    if (size == 0) {
      decoder.error = "the plugin configuration is empty (expected {\"version\": 1, \"rules\": [...]})";
      return null;
    }
    if (readBuffer(BufferType.PLUGIN_CONFIGURATION, size) != Status.OK) {
      decoder.error = "the plugin configuration could not be read";
      return null;
    }
    const ptr = hostPtr();
    this.digest = digestOf(ptr, hostSize());
    const config = decoder.decode(ptr, hostSize());
    releaseHostBuffer(ptr);
    return config;
  }

  onTick(): void { this.worker.onTick(nowMs()); }

  newStream(id: u32): StreamContext {
    return this.pool.length > 0 ? this.pool.pop() : new SergoStream(this.worker);
  }

  releaseStream(stream: StreamContext): void {
    if (this.pool.length < 1024) this.pool.push(changetype<SergoStream>(stream));
  }
}
