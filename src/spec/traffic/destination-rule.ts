// Istio DestinationRule (networking.istio.io): the subsets of a host (`subsets[].name`, `.labels`).
// Only what subsets need is read; the spec is kept as written so that Istio output passes it through.
import type { SourcePos } from '../../diagnostics.ts';
import type { DestinationRule, ServiceSubset } from '../../ir/traffic.ts';
import { qualifyHost } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readList, readMap, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { readLabels } from './endpoints.ts';

export const ISTIO_NETWORKING_GROUP = 'networking.istio.io';
export const DESTINATION_RULE_KIND = 'DestinationRule';
export const DESTINATION_RULE_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'].map((v) => `${ISTIO_NETWORKING_GROUP}/${v}`);

export interface DestinationRuleSpec {
  rule: Omit<DestinationRule, 'origin'>;
  subsets: ServiceSubset[];
  /** Where `spec.host` is written (a second rule for one host is reported there). */
  hostPos: SourcePos;
}

export function readDestinationRule(spec: Cursor, r: Reporter, apiVersion: string, namespace: string): DestinationRuleSpec | undefined {
  const before = r.errorCount;
  const writtenHost = readString(spec.get('host'), r, { nonEmpty: true, maxLength: 253 });
  const host = writtenHost === undefined ? undefined : qualifyHost(writtenHost, namespace);
  const subsets: ServiceSubset[] = [];
  for (const item of readList(spec.get('subsets'), r, { optional: true }) ?? []) {
    if (readMap(item, r) === undefined) continue;
    const name = readString(item.get('name'), r, { nonEmpty: true });
    const labels = readLabels(item.get('labels'), r);
    if (name !== undefined && subsets.some((s) => s.name === name)) r.error(item.get('name'), `subset ${name} is defined twice`);
    else if (name !== undefined && labels !== undefined && host !== undefined) subsets.push({ host, name, labels, source: 'DestinationRule', pos: item.get('name').pos });
  }
  if (host === undefined || r.errorCount > before) return undefined;
  return { rule: { apiVersion, host, spec: structuredClone(spec.json) as Record<string, unknown> }, subsets, hostPos: spec.get('host').pos };
}
