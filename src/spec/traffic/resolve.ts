// Routers + DestinationRules → the model's Traffic: every subset a destination names is defined by
// the host's DestinationRule, or (no DestinationRule for the host) is the default subset selecting
// `version: <name>`. A subset a DestinationRule of the host does not define is an error.
import { formatPos, type SourcePos } from '../../diagnostics.ts';
import { DEFAULT_SUBSET_LABEL, type Destination, type DestinationRule, type ServiceSubset, type Traffic, type TrafficRouter } from '../../ir/traffic.ts';
import type { Reporter } from '../reporter.ts';

export interface LoadedRouter {
  router: TrafficRouter;
  reporter: Reporter;
}
export interface LoadedDestinationRule {
  rule: DestinationRule;
  subsets: ServiceSubset[];
  hostPos: SourcePos;
  reporter: Reporter;
}

/** Undefined when the input has neither routers nor DestinationRules. */
export function resolveTraffic(routers: readonly LoadedRouter[], rules: readonly LoadedDestinationRule[]): Traffic | undefined {
  if (routers.length === 0 && rules.length === 0) return undefined;
  const byHost = new Map<string, LoadedDestinationRule>();
  for (const loaded of rules) {
    const first = byHost.get(loaded.rule.host);
    if (first === undefined) byHost.set(loaded.rule.host, loaded);
    else loaded.reporter.errorAt(loaded.hostPos, 'spec.host', `${loaded.rule.host} already has DestinationRule ${first.rule.origin.name} (${formatPos(first.rule.origin.pos)}); sergo-wasm takes one per host`);
  }
  const subsets = [...byHost.values()].flatMap((d) => d.subsets);
  const valid: TrafficRouter[] = [];
  for (const { router, reporter } of routers) {
    const before = reporter.errorCount;
    for (const destination of destinationsOf(router)) {
      for (const ref of destination.fallback === undefined ? [destination] : [destination, destination.fallback]) {
        defineSubset(ref, ref === destination ? destination.field : destination.fallback!.field, byHost, subsets, reporter, destination.pos);
      }
    }
    if (reporter.errorCount === before) valid.push(router);
  }
  subsets.sort((a, b) => (a.host === b.host ? a.name.localeCompare(b.name) : a.host.localeCompare(b.host)));
  return { routers: valid, subsets, destinationRules: [...byHost.values()].map((d) => d.rule) };
}

/** Every destination of a router: routes, then mirrors. */
export function destinationsOf(router: TrafficRouter): Destination[] {
  return router.http.flatMap((h) => [...h.route.map((w) => w.destination), ...(h.mirror === undefined ? [] : [h.mirror.destination])]);
}

function defineSubset(
  ref: { host: string; subset?: string },
  field: string,
  byHost: ReadonlyMap<string, LoadedDestinationRule>,
  subsets: ServiceSubset[],
  reporter: Reporter,
  pos: Destination['pos'],
): void {
  if (ref.subset === undefined) return;
  const rule = byHost.get(ref.host);
  if (rule !== undefined) {
    if (rule.subsets.some((s) => s.name === ref.subset)) return;
    const defined = rule.subsets.map((s) => s.name).join(', ') || 'none';
    reporter.errorAt(pos, `${field}.subset`, `subset ${ref.subset} of ${ref.host} is not defined by DestinationRule ${rule.rule.origin.name} (${formatPos(rule.rule.origin.pos)}; it defines ${defined})`);
    return;
  }
  if (!subsets.some((s) => s.host === ref.host && s.name === ref.subset)) {
    subsets.push({ host: ref.host, name: ref.subset, labels: { [DEFAULT_SUBSET_LABEL]: ref.subset }, source: 'default' });
  }
}
