// Every strategy the filter knows, by the configuration's "kind": the one place that names them.
import { Strategy } from "./strategy";
import { decodeRateLimit } from "./ratelimit";
import { decodeThrottling } from "./throttling";
import { decodeConcurrencyLimit } from "./concurrency";
import { decodeCircuitBreaker } from "./breaker";
import { StrategyInput } from "../config/reader";

/** Decodes {"kind": …} with the decoder of that kind; null (and the reader's error) otherwise. */
export function decodeStrategy(kind: string, input: StrategyInput): Strategy | null {
  if (kind == "RateLimit") return decodeRateLimit(input);
  if (kind == "Throttling") return decodeThrottling(input);
  if (kind == "ConcurrencyLimit") return decodeConcurrencyLimit(input);
  if (kind == "CircuitBreaker") return decodeCircuitBreaker(input);
  input.reader.bad(input.at + ".kind", "unknown strategy kind \"" + kind + "\"");
  return null;
}
