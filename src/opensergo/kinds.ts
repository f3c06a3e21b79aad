// The OpenSergo kinds sergo subscribes to, as the transport names them (`<group>/<version>/<Kind>`),
// and the payload message each push of that kind carries. TrafficRouter (pushed as an Envoy
// RouteConfiguration with most of the CR dropped) is not subscribed: docs/opensergo.md.
import { FAULT_TOLERANCE_API_VERSION } from '../spec/kinds/index.ts';

export const BARE_KINDS = ['FaultToleranceRule', 'RateLimitStrategy', 'ThrottlingStrategy', 'ConcurrencyLimitStrategy', 'CircuitBreakerStrategy'] as const;
export type BareKind = (typeof BARE_KINDS)[number];

/** `fault-tolerance.opensergo.io/v1alpha1/RateLimitStrategy` for `RateLimitStrategy`. */
export function wireKind(kind: BareKind): string {
  return `${FAULT_TOLERANCE_API_VERSION}/${kind}`;
}

export const SUBSCRIBED_KINDS: readonly string[] = BARE_KINDS.map(wireKind);

/** The bare kind of a subscribed wire kind; undefined for any other. */
export function bareKind(kind: string): BareKind | undefined {
  return BARE_KINDS.find((k) => wireKind(k) === kind);
}
