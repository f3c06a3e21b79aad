// What each object's status says, and the Event that goes with a change of it.
//
// One condition, `Accepted`:
//   True,  reason Accepted    the translator found no error (warnings are in the message and in
//                             status.problems);
//   False, reason Invalid     the object has errors: the translator's messages with their field
//                             paths; the app keeps its last good configuration;
//   False, reason AppInvalid  (FaultToleranceRule) the rule is valid but another object its app
//                             needs is not, so the app keeps its last good configuration.
// status.observedGeneration and the condition's observedGeneration are the generation judged.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { AppOutcome, Problem } from './translate.ts';

export interface Condition {
  type: 'Accepted';
  status: 'True' | 'False';
  reason: 'Accepted' | 'Invalid' | 'AppInvalid';
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface ObjectStatus {
  observedGeneration: number;
  conditions: Condition[];
  problems: Problem[];
  wasmPlugin?: string;
}

/** The subject of a status: an OpenSergo object as cached. */
export interface Subject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; generation?: number; resourceVersion?: string };
  status?: Partial<ObjectStatus>;
}

const MAX_MESSAGE = 4000;

export interface Judgement {
  problems: Problem[];
  /** FaultToleranceRule: its app's outcome. */
  app?: { name: string; outcome: AppOutcome; carrier?: string };
}

export function desiredStatus(subject: Subject, judgement: Judgement, now: Date): ObjectStatus {
  const generation = subject.metadata.generation ?? 0;
  const { status, reason, message } = verdict(judgement);
  const previous = subject.status?.conditions?.find((c) => c.type === 'Accepted');
  const unchanged = previous !== undefined && previous.status === status;
  const condition: Condition = {
    type: 'Accepted',
    status,
    reason,
    message: clip(message),
    observedGeneration: generation,
    lastTransitionTime: unchanged ? previous.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  const carrier = judgement.app?.carrier;
  return { observedGeneration: generation, conditions: [condition], problems: judgement.problems.map(clipProblem), ...(carrier === undefined ? {} : { wasmPlugin: carrier }) };
}

function verdict(j: Judgement): Pick<Condition, 'status' | 'reason' | 'message'> {
  const errors = j.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { status: 'False', reason: 'Invalid', message: errors.map(describe).join('; ') };
  const warnings = j.problems.map((p) => `warning: ${describe(p)}`);
  const outcome = j.app?.outcome;
  if (outcome !== undefined && !outcome.ok) {
    return { status: 'False', reason: 'AppInvalid', message: `app ${j.app!.name} keeps its last good configuration: ${outcome.reason}` };
  }
  const where = j.app === undefined ? 'valid' : `in force for app ${j.app.name}${j.app.carrier === undefined ? '' : ` (WasmPlugin ${j.app.carrier})`}`;
  return { status: 'True', reason: 'Accepted', message: [where, ...warnings].join('; ') };
}

export function describe(p: Problem): string {
  return p.field === undefined ? p.message : `${p.field}: ${p.message}`;
}

/** True when the status would change (the transition time of an unchanged condition does not count). */
export function statusDiffers(current: Partial<ObjectStatus> | undefined, desired: ObjectStatus): boolean {
  return JSON.stringify(comparable(current)) !== JSON.stringify(comparable(desired));
}

function comparable(s: Partial<ObjectStatus> | undefined): unknown {
  if (s === undefined) return undefined;
  return {
    observedGeneration: s.observedGeneration,
    conditions: (s.conditions ?? []).map(({ type, status, reason, message, observedGeneration }) => ({ type, status, reason, message, observedGeneration })),
    problems: (s.problems ?? []).map(({ severity, field, message }) => ({ severity, field, message })),
    wasmPlugin: s.wasmPlugin,
  };
}

/** An Event when the verdict (status, reason, message) is new; undefined when it is not. */
export function eventFor(subject: Subject, desired: ObjectStatus, identity: string, now: Date): CoreV1Event | undefined {
  const next = desired.conditions[0]!;
  const previous = subject.status?.conditions?.find((c) => c.type === 'Accepted');
  if (previous !== undefined && previous.status === next.status && previous.reason === next.reason && previous.message === next.message) return undefined;
  const { name, namespace, uid, resourceVersion } = subject.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${name}.`, namespace },
    involvedObject: { apiVersion: subject.apiVersion, kind: subject.kind, name, namespace, uid, resourceVersion },
    type: next.status === 'True' ? 'Normal' : 'Warning',
    reason: next.reason,
    message: clip(next.message, 1024),
    source: { component: 'sergo-controller' },
    reportingComponent: 'sergo-controller',
    reportingInstance: identity,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

function clip(text: string, max = MAX_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function clipProblem(p: Problem): Problem {
  return { ...p, message: clip(p.message, 1024) };
}
