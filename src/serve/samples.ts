// What the admin endpoints show: the filter's metrics as defined, then serve's own under
// `sergo.serve.` (requests, upstream errors, reloads, rate-limit calls, the generation of the rules).
import type { ProxyWasmHost } from '../host/index.ts';
import type { ServeCounters } from './exchange.ts';
import type { StatSample } from './stats.ts';

/** Calls to the rate-limit service by outcome (--rls). */
export type RlsCallCounts = Record<'ok' | 'error' | 'unknown_cluster', number>;

export interface ServeState {
  host: ProxyWasmHost;
  counters: Readonly<ServeCounters>;
  generation: number;
  vms: number;
  reloads: Readonly<Record<string, number>>;
  /** absent without --rls */
  rlsCalls: Readonly<RlsCallCounts> | undefined;
}

const counter = (name: string, value: number, labels?: Record<string, string>): StatSample => ({ name: `sergo.serve.${name}`, type: 'counter', value: BigInt(value), labels });
const gauge = (name: string, value: number): StatSample => ({ name: `sergo.serve.${name}`, type: 'gauge', value: BigInt(value) });

export function statSamples(s: ServeState): StatSample[] {
  const out: StatSample[] = [];
  for (const [name, m] of s.host.metrics()) out.push({ name, type: m.type, value: m.value, count: m.count });
  const c = s.counters;
  out.push(
    counter('requests_total', c.requests),
    gauge('requests_active', c.active),
    counter('local_responses_total', c.localResponses),
    counter('client_aborts_total', c.clientAborts),
    counter('upstream_errors_total', c.upstreamConnectErrors, { reason: 'connect' }),
    counter('upstream_errors_total', c.upstreamTimeouts, { reason: 'timeout' }),
    counter('upstream_errors_total', c.upstreamResets, { reason: 'reset' }),
    counter('internal_errors_total', c.internalErrors),
    gauge('config_generation', s.generation),
    gauge('vms', s.vms),
  );
  for (const [result, n] of Object.entries(s.reloads)) out.push(counter('reloads_total', n, { result }));
  if (s.rlsCalls) for (const [outcome, n] of Object.entries(s.rlsCalls)) out.push(counter('rls_calls_total', n, { outcome }));
  return out;
}
