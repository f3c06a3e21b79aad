// Every strategy the filter knows, by the configuration's "kind": the one place that names them.
import { Strategy } from "./strategy";
import { decodeRateLimit } from "./ratelimit";
import { decodeThrottling } from "./throttling";
import { decodeConcurrencyLimit } from "./concurrency";
import { decodeCircuitBreaker } from "./breaker";
import { StrategyInput } from "../config/reader";
import { JsonValue } from "../config/json";

/** Decodes {"kind": …} (`kind`: the string value) with the decoder of that kind; null (and the
 *  reader's error) otherwise. */
export function decodeStrategy(kind: JsonValue, input: StrategyInput): Strategy | null {
  const j = input.json;
  if (j.is(kind, "RateLimit")) return decodeRateLimit(input);
  if (j.is(kind, "Throttling")) return decodeThrottling(input);
  if (j.is(kind, "ConcurrencyLimit")) return decodeConcurrencyLimit(input);
  if (j.is(kind, "CircuitBreaker")) return decodeCircuitBreaker(input);
  input.reader.bad(input.at + ".kind", "unknown strategy kind \"" + j.str(kind) + "\"");
  return null;
}
