// `--endpoints FILE` (docs/traffic.md): where each service's instances are, with their labels, for
// targets that route without a service registry (`--format envoy`). YAML or JSON:
//   reviews:                              # a host as routers name it (short names take --namespace)
//     - address: 127.0.0.1:9081           # HOST:PORT, an IP literal or a DNS name
//       labels: { version: v1 }           # what DestinationRule subsets select on
// A bad entry is an error with its position; nothing of a file with errors is used.
import { parseServerAddress } from '../../address.ts';
import type { Diagnostics } from '../../diagnostics.ts';
import { qualifyHost, type Endpoint, type EndpointTable } from '../../ir/traffic.ts';
import { Cursor } from '../cursor.ts';
import { readList, readMap, readString, readText } from '../fields.ts';
import { Reporter } from '../reporter.ts';
import { parseSource } from '../source.ts';

export const ENDPOINTS_OBJECT = 'endpoints';

/** The table of one endpoints file; undefined when it has errors (reported). */
export function loadEndpoints(path: string, text: string, namespace: string, diagnostics: Diagnostics): EndpointTable | undefined {
  const before = diagnostics.errors.length;
  const documents = parseSource(path, text, diagnostics);
  const r = new Reporter(diagnostics, ENDPOINTS_OBJECT);
  const table = new Map<string, Endpoint[]>();
  for (const document of documents) {
    const root = Cursor.root(document);
    if (!root.present) continue;
    if (readMap(root, r) === undefined) continue;
    for (const { key, pos } of root.keys()) {
      const host = qualifyHost(key, namespace);
      if (table.has(host)) {
        r.errorAt(pos, key, `${host} is listed twice`);
        continue;
      }
      table.set(host, readHostEndpoints(root.get(key), r));
    }
  }
  return diagnostics.errors.length > before ? undefined : table;
}

function readHostEndpoints(c: Cursor, r: Reporter): Endpoint[] {
  const out: Endpoint[] = [];
  for (const item of readList(c, r) ?? []) {
    if (readMap(item, r) === undefined) continue;
    r.warnUnknownFields(item, ['address', 'labels']);
    const text = readString(item.get('address'), r, { nonEmpty: true });
    const parsed = text === undefined ? undefined : parseServerAddress(text);
    if (parsed !== undefined && !parsed.ok) r.error(item.get('address'), parsed.error);
    const labels = readLabels(item.get('labels'), r);
    if (parsed?.ok === true && labels !== undefined) out.push({ address: parsed.value, labels });
  }
  return out;
}

/** A map of label → value (values may be written unquoted: `version: 2`). */
export function readLabels(c: Cursor, r: Reporter, opts: { optional?: boolean } = { optional: true }): Record<string, string> | undefined {
  if (!c.present) return opts.optional === false ? (r.error(c, 'is required'), undefined) : {};
  if (readMap(c, r) === undefined) return undefined;
  const labels: Record<string, string> = {};
  let ok = true;
  for (const { key } of c.keys()) {
    const value = readText(c.get(key), r);
    if (value === undefined) ok = false;
    else labels[key] = value;
  }
  return ok ? labels : undefined;
}
