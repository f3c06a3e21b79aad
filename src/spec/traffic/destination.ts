// Istio Destination (`host`, `subset`, `port.number`) with OpenSergo's `fallback {host, subset}`:
// hosts are qualified with the router's namespace as Istio does (`reviews` → reviews.NS.svc.cluster.local).
import { qualifyHost, type Destination } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readInteger, readMap, readString } from '../fields.ts';
import type { Reporter } from '../reporter.ts';

const HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBSET = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A destination (`allowFallback`: OpenSergo's extension is read); undefined when invalid (reported). */
export function readDestination(c: Cursor, r: Reporter, namespace: string, allowFallback: boolean): Destination | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, allowFallback ? ['host', 'subset', 'port', 'fallback'] : ['host', 'subset', 'port']);
  const before = r.errorCount;
  const target = readTarget(c, r, namespace);
  const fallbackField = c.get('fallback');
  const fallback = allowFallback && fallbackField.present ? readTarget(fallbackField, r, namespace, true) : undefined;
  if (target === undefined || r.errorCount > before) return undefined;
  if (fallback !== undefined && fallback.host === target.host && fallback.subset === target.subset) {
    r.error(fallbackField, 'names the destination itself');
    return undefined;
  }
  return { ...target, pos: c.pos, field: c.path, ...(fallback === undefined ? {} : { fallback: { ...fallback, pos: fallbackField.pos, field: fallbackField.path } }) };
}

function readTarget(c: Cursor, r: Reporter, namespace: string, isFallback = false) {
  if (isFallback && readMap(c, r) === undefined) return undefined;
  if (isFallback) r.warnUnknownFields(c, ['host', 'subset', 'port']);
  const writtenHost = readString(c.get('host'), r, { nonEmpty: true, maxLength: 253 });
  if (writtenHost !== undefined && !HOST.test(writtenHost)) {
    r.error(c.get('host'), `'${writtenHost}' is not a service host name (lower-case DNS name, no wildcard)`);
    return undefined;
  }
  const subset = readString(c.get('subset'), r, { optional: true, nonEmpty: true, maxLength: 253 });
  if (subset !== undefined && !SUBSET.test(subset)) {
    r.error(c.get('subset'), `'${subset}' is not a valid subset name (letters, digits, -, _ and .)`);
    return undefined;
  }
  const portField = c.get('port');
  const port = portField.present && readMap(portField, r) !== undefined ? readInteger(portField.get('number'), r, { min: 1, max: 65535 }) : undefined;
  if (writtenHost === undefined) return undefined;
  return { writtenHost, host: qualifyHost(writtenHost, namespace), ...(subset === undefined ? {} : { subset }), ...(port === undefined ? {} : { port }) };
}
