// The `lanes` section of the filter configuration (docs/filter-config.md, "Lanes"): the header and
// baggage key, every lane the proxy carries, and the colouring rules of the lanes whose entry is
// this app. Keys in a fixed order, as the rest of the configuration.
import { colouredAt, type LaneMatch, type LaneSet, type LaneStringMatch } from '../ir/lane.ts';

export type FilterLaneMatch = { exact: string } | { prefix: string } | { present: true };

export interface FilterLaneBlock {
  path?: FilterLaneMatch;
  /** `path` ignores ASCII case. */
  ignoreCase?: true;
  method?: FilterLaneMatch;
  headers?: Array<[string, FilterLaneMatch]>;
  query?: Array<[string, FilterLaneMatch]>;
}

export interface FilterLanes {
  /** The request header that carries the lane (what routes match). */
  header: string;
  /** The W3C baggage member that carries the lane between hops. */
  baggageKey: string;
  /** Every lane carried: a lane header or baggage member with another value is left alone. */
  names: string[];
  /** Colouring at this app's entry: the first rule with a matching block gives the lane. */
  colour: Array<{ lane: string; when: FilterLaneBlock[] }>;
}

export function emitLanes(set: LaneSet, app: string | undefined): FilterLanes {
  return {
    header: set.key,
    baggageKey: set.key,
    names: set.lanes.map((l) => l.name),
    colour: colouredAt(set, app).map((l) => ({ lane: l.name, when: l.matches.map(emitBlock) })),
  };
}

function emitBlock(m: LaneMatch): FilterLaneBlock {
  const out: FilterLaneBlock = {};
  if (m.path !== undefined) out.path = emitMatch(m.path);
  if (m.path !== undefined && m.ignoreUriCase === true) out.ignoreCase = true;
  if (m.method !== undefined) out.method = emitMatch(m.method);
  if (m.headers.length > 0) out.headers = m.headers.map(([name, match]) => [name, emitMatch(match)]);
  if (m.query.length > 0) out.query = m.query.map(([name, match]) => [name, emitMatch(match)]);
  return out;
}

function emitMatch(m: LaneStringMatch): FilterLaneMatch {
  switch (m.kind) {
    case 'exact':
      return { exact: m.value };
    case 'prefix':
      return { prefix: m.value };
    case 'present':
      return { present: true };
  }
}
