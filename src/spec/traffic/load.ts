// The traffic objects among the loaded ones → the model's Traffic (resolve.ts). An object whose spec
// was invalid is left out (its errors are reported, so no deployment is built from the input).
import type { Traffic } from '../../ir/traffic.ts';
import type { LoadedObject } from '../objects.ts';
import { resolveTraffic, type LoadedDestinationRule, type LoadedRouter } from './resolve.ts';

export function trafficOf(objects: readonly LoadedObject[]): Traffic | undefined {
  const routers: LoadedRouter[] = [];
  const rules: LoadedDestinationRule[] = [];
  for (const o of objects) {
    if (o.role !== 'router' && o.role !== 'destinationRule') continue;
    const origin = { namespace: o.namespace, name: o.name, pos: o.pos };
    if (o.role === 'router' && o.router !== undefined) {
      routers.push({ router: { origin: { kind: 'TrafficRouter', ...origin }, ...(o.app === undefined ? {} : { app: o.app }), ...o.router }, reporter: o.reporter });
    }
    if (o.role === 'destinationRule' && o.destinationRule !== undefined) {
      const { rule, subsets, hostPos } = o.destinationRule;
      rules.push({ rule: { origin: { kind: 'DestinationRule', ...origin }, ...rule }, subsets, hostPos, reporter: o.reporter });
    }
  }
  return resolveTraffic(routers, rules);
}
