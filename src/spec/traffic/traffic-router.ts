// TrafficRouter (traffic.opensergo.io/v1alpha1): an Istio VirtualService plus `destination.fallback`.
// `hosts` are what the router applies to (short names qualified with its namespace); `http` is
// ordered, first match wins. tls, tcp and exportTo have no target here: errors, never dropped.
import type { TrafficRouter, Written } from '../../ir/traffic.ts';
import { qualifyHost } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readList, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readHttpRoute } from './http-route.ts';

export const TRAFFIC_GROUP = 'traffic.opensergo.io';
export const TRAFFIC_API_VERSION = `${TRAFFIC_GROUP}/v1alpha1`;
export const TRAFFIC_ROUTER_KIND = 'TrafficRouter';

const SPEC_FIELDS = ['hosts', 'gateways', 'http', 'tls', 'tcp', 'exportTo'];
/** A host the router applies to: a DNS name, `*`, or `*.suffix`. */
const ROUTER_HOST = /^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;

export type RouterSpec = Omit<TrafficRouter, 'origin' | 'app'>;

export function readTrafficRouter(spec: Cursor, r: Reporter, namespace: string): RouterSpec | undefined {
  r.warnUnknownFields(spec, SPEC_FIELDS);
  const before = r.errorCount;
  for (const field of ['tls', 'tcp']) {
    if (spec.get(field).present) r.error(spec.get(field), `is not supported by sergo-wasm (only http routes are)`);
  }
  if (spec.get('exportTo').present) r.error(spec.get('exportTo'), 'is not supported by sergo-wasm (routers apply where they are translated)');
  const hosts = (readList(spec.get('hosts'), r, { nonEmpty: true }) ?? []).map((h) => readRouterHost(h, r));
  const gateways = readGateways(spec.get('gateways'), r);
  const http = (readList(spec.get('http'), r, { nonEmpty: true }) ?? []).map((h) => readHttpRoute(h, r, namespace));
  if (r.errorCount > before) return undefined;
  const written = hosts as string[];
  return {
    hosts: written,
    fqdnHosts: written.map((h) => (h.startsWith('*') ? h : qualifyHost(h, namespace))),
    ...(gateways === undefined ? {} : { gateways }),
    http: http as NonNullable<(typeof http)[number]>[],
  };
}

function readRouterHost(c: Cursor, r: Reporter): string | undefined {
  const host = readString(c, r, { nonEmpty: true, maxLength: 253 });
  if (host !== undefined && !ROUTER_HOST.test(host)) {
    r.error(c, `'${host}' is not a host (a lower-case DNS name, '*' or '*.suffix')`);
    return undefined;
  }
  return host;
}

function readGateways(c: Cursor, r: Reporter): (Written & { names: string[] }) | undefined {
  if (!c.present) return undefined;
  const names = (readList(c, r) ?? []).map((g) => readString(g, r, { nonEmpty: true }) ?? '');
  return { pos: c.pos, field: c.path, names };
}
