// TrafficLane objects → IR lanes. Lanes are per namespace: every proxy of the namespace carries and
// routes them, so within a namespace lane names are unique and every lane uses the same header and
// baggage key (a request carries one lane, under one name). A lane with any error is left out whole.
import type { Lane } from '../ir/lane.ts';
import { LIMITS } from '../ir/limits.ts';
import type { LoadedObject } from './objects.ts';

type LaneObject = Extract<LoadedObject, { role: 'lane' }>;

/** The valid lanes of `objects`, in source order; conflicts are reported on the later object. */
export function resolveLanes(objects: readonly LoadedObject[]): Lane[] {
  const lanes: Lane[] = [];
  for (const o of objects) {
    if (o.role !== 'lane') continue;
    const lane = toLane(o);
    if (lane === undefined || conflicts(o, lane, lanes)) continue;
    lanes.push(lane);
  }
  return lanes;
}

function toLane(o: LaneObject): Lane | undefined {
  const spec = o.lane;
  if (spec === undefined || !spec.complete || spec.name === undefined || spec.entryApp === undefined) return undefined;
  return {
    origin: { kind: 'TrafficLane', namespace: o.namespace, name: o.name, pos: o.pos },
    name: spec.name,
    entryApp: spec.entryApp.app,
    matches: spec.matches,
    workloadLabels: spec.workloadLabels,
    key: spec.key,
    keyPos: spec.keyPos,
  };
}

function conflicts(o: LaneObject, lane: Lane, earlier: readonly Lane[]): boolean {
  const sameNamespace = earlier.filter((l) => l.origin.namespace === lane.origin.namespace);
  if (sameNamespace.length >= LIMITS.lanes.maxItems) {
    o.reporter.errorAt(o.pos, 'metadata.name', `namespace ${lane.origin.namespace} has more than ${LIMITS.lanes.maxItems} lanes`);
    return true;
  }
  const named = sameNamespace.find((l) => l.name === lane.name);
  if (named !== undefined) {
    o.reporter.errorAt(o.pos, 'spec.rules.lane.name', `lane ${lane.name} is already defined in namespace ${lane.origin.namespace} by TrafficLane/${named.origin.name}`);
    return true;
  }
  const other = sameNamespace.find((l) => l.key !== lane.key);
  if (other !== undefined) {
    o.reporter.errorAt(lane.keyPos, 'spec.rules.traceIdBaggage', `'${lane.key}' differs from '${other.key}' of TrafficLane/${other.origin.name}: the lanes of a namespace share one header and baggage key`);
    return true;
  }
  return false;
}
