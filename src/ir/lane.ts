// Traffic lanes (TrafficLane, docs/traffic.md): which requests are coloured at their entry, the lane
// they get, the instances that serve the lane, and the one name that carries a lane from hop to hop
// (a request header, and the key of a W3C baggage member, so that apps propagating baggage stay in
// their lane). Positions are kept for messages.
import type { SourcePos } from '../diagnostics.ts';

/** The header and baggage key of lanes when a TrafficLane names none (`traceIdBaggage`). */
export const DEFAULT_LANE_KEY = 'x-sergo-lane';

/** A condition on one part of the request; `present` only where absence can be told (headers, query). */
export type LaneStringMatch =
  | { kind: 'exact'; value: string }
  | { kind: 'prefix'; value: string }
  | { kind: 'present' };

/** One block of conditions: all must hold (a block without conditions matches every request). */
export interface LaneMatch {
  /** The path (`:path` up to `?` or `#`), compared as it arrives. */
  path?: LaneStringMatch;
  /** `path` ignores ASCII case. */
  ignoreUriCase?: boolean;
  method?: LaneStringMatch;
  /** Lower-case names; the first value of a repeated header is the one compared. */
  headers: Array<[name: string, match: LaneStringMatch]>;
  /** Query parameters by name, compared on the raw (still percent-encoded) value. */
  query: Array<[name: string, match: LaneStringMatch]>;
}

export interface Lane {
  /** Where the lane came from (as Origin in ./model.ts, which imports this file). */
  origin: { kind: 'TrafficLane'; namespace: string; name: string; pos: SourcePos };
  /** The lane's name: the header's value, the baggage member's value, and the subset's name. */
  name: string;
  /** The app whose proxies colour requests into the lane (`spec.selector.app`). */
  entryApp: string;
  /** The blocks of conditions, any of which colours a request (OR), in order. */
  matches: LaneMatch[];
  /** Labels of the lane's instances: for each host, the lane's subset (`rules.workload.selector`). */
  workloadLabels: Array<[key: string, value: string]>;
  /** The header and baggage key that carry the lane. */
  key: string;
  keyPos: SourcePos;
}

/** The lanes one app's proxies know: every lane of the namespace, in source order. */
export interface LaneSet {
  /** The header and baggage key every lane of the set uses (DEFAULT_LANE_KEY when none names one). */
  key: string;
  lanes: Lane[];
  /**
   * False on a listener of the app's outbound calls (`--outbound`): there a request takes the lane
   * of the request that caused it (from baggage), so nothing is coloured.
   */
  colours: boolean;
}

/** The lanes of `namespace` (undefined when it has none): what one app's proxies carry and route. */
export function laneSetOf(lanes: readonly Lane[], namespace: string, outbound = false): LaneSet | undefined {
  const inNamespace = lanes.filter((l) => l.origin.namespace === namespace);
  if (inNamespace.length === 0) return undefined;
  return { key: inNamespace[0]!.key, lanes: inNamespace, colours: !outbound };
}

/** The lanes that `app`'s proxies colour requests into, in order (first match wins). */
export function colouredAt(set: LaneSet, app: string | undefined): Lane[] {
  return set.colours ? set.lanes.filter((l) => l.entryApp === app) : [];
}
