// Traffic lanes at request headers, before Envoy's router picks a route (docs/traffic.md):
//   1. colour: the first colouring rule with a matching block gives the request its lane;
//   2. else the lane the request carries: the lane header if it names a known lane (a header with
//      another value is left alone), else the `baggage` member named by the baggage key;
//   3. the lane is then written to both: the header (what routes match; Envoy clears its route
//      cache when a filter changes a request header) and the baggage member (what apps that
//      propagate W3C baggage carry to the next hop).
// A request with no lane costs the colouring rules' comparisons and two header lookups; nothing
// allocates (values are compared and rewritten in place or in static buffers).
import { Bytes, MapType, MetricType, Status, defineMetric, getHeader, hostPtr, hostSize, incrementMetric, replaceHeader } from "../abi";
import { MAX_BAGGAGE, baggageValue, decodedPtr, rewriteBaggage, rewrittenPtr } from "./baggage";
import { Lanes } from "./config";
import { blockMatches, resetRequestView } from "./match";

const BAGGAGE = new Bytes("baggage");
const ABSENT: i32 = -2;
const UNKNOWN: i32 = -1;

/** Counters of what lanes did (per process; Envoy: wasmcustom.sergo.lane_*), counted here and
 *  handed to the host on the worker's tick (flushLaneCounts), as the rules' request counts are. */
class LaneMetrics {
  coloured: u32 = defineMetric(MetricType.COUNTER, "sergo.lane_coloured");
  carried: u32 = defineMetric(MetricType.COUNTER, "sergo.lane_carried");
}
let metrics: LaneMetrics | null = null;
let colouredPending: i64 = 0;
let carriedPending: i64 = 0;

/** Defines the counters (once per VM, at configure time: no host call of that kind per request). */
export function defineLaneMetrics(): void { if (metrics === null) metrics = new LaneMetrics(); }

/** Hands the pending counts to the host (the worker's tick). */
export function flushLaneCounts(): void {
  const m = metrics;
  if (m === null) return;
  if (colouredPending > 0) incrementMetric(m.coloured, colouredPending);
  if (carriedPending > 0) incrementMetric(m.carried, carriedPending);
  colouredPending = 0;
  carriedPending = 0;
}

/** The index of the lane named by the `len` bytes at `ptr`, or UNKNOWN. */
function laneIndex(lanes: Lanes, ptr: usize, len: usize): i32 {
  const names = lanes.names;
  for (let i = 0; i < names.length; i++) {
    const n = unchecked(names[i]);
    if (<usize>n.byteLength == len && memory.compare(changetype<usize>(n), ptr, len) == 0) return i;
  }
  return UNKNOWN;
}

function colourOf(lanes: Lanes): i32 {
  const rules = lanes.colour;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    for (let j = 0; j < rule.blocks.length; j++) if (blockMatches(unchecked(rule.blocks[j]))) return rule.lane;
  }
  return UNKNOWN;
}

/** Colours or carries this request's lane (the request headers' callback of the stream); whether
 *  it counted one (a count to flush). */
export function laneRequest(lanes: Lanes): bool {
  resetRequestView();
  const coloured = lanes.colour.length > 0 ? colourOf(lanes) : UNKNOWN;
  let headerLane = ABSENT;
  if (getHeader(MapType.HTTP_REQUEST_HEADERS, lanes.header) == Status.OK) headerLane = laneIndex(lanes, hostPtr(), hostSize());
  if (coloured < 0 && headerLane == UNKNOWN) return false;
  let baggagePtr: usize = 0;
  let baggageLen: usize = 0;
  let baggageLane = ABSENT;
  if (getHeader(MapType.HTTP_REQUEST_HEADERS, BAGGAGE) == Status.OK) {
    baggagePtr = hostPtr();
    baggageLen = hostSize();
    const n = baggageValue(baggagePtr, baggageLen, lanes.baggageKey.buffer);
    baggageLane = n >= 0 ? laneIndex(lanes, decodedPtr(), <usize>n) : UNKNOWN;
  }
  const lane = coloured >= 0 ? coloured : headerLane >= 0 ? headerLane : baggageLane;
  if (lane < 0) return false;
  const name = unchecked(lanes.names[lane]);
  if (lane != headerLane) {
    replaceHeader(MapType.HTTP_REQUEST_HEADERS, lanes.header, changetype<usize>(name), <usize>name.byteLength);
  }
  if (lane != baggageLane && baggageLen <= MAX_BAGGAGE) {
    const n = rewriteBaggage(baggagePtr, baggageLen, lanes.baggageKey.buffer, name);
    if (n >= 0) replaceHeader(MapType.HTTP_REQUEST_HEADERS, BAGGAGE, rewrittenPtr(), <usize>n);
  }
  if (coloured >= 0) colouredPending++;
  else if (headerLane == ABSENT) carriedPending++;
  else return false;
  return true;
}
