// `metadata` of a handled object: name, namespace (kubectl's rule: absent → --namespace) and the app
// label. Names follow the Kubernetes API server's rules, which also keeps rule identities printable.
import type { Cursor } from './cursor.ts';
import { readMap, readString } from './fields.ts';
import type { Reporter } from './reporter.ts';

/** RFC 1123 subdomain: object names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** RFC 1123 label: namespaces. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes label value, non-empty. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export interface Metadata {
  name?: string;
  namespace: string;
  /** `metadata.labels.app`. */
  labelApp?: { app: string };
}

export function readMetadata(root: Cursor, r: Reporter, defaultNamespace: string): Metadata {
  const metadata = readMap(root.get('metadata'), r);
  if (metadata === undefined) return { namespace: defaultNamespace };
  const name = readName(metadata.get('name'), r, DNS_SUBDOMAIN, 253, 'lower-case letters, digits, - and .');
  const namespace =
    readName(metadata.get('namespace'), r, DNS_LABEL, 63, 'lower-case letters, digits and -', true) ?? defaultNamespace;
  const labels = readMap(metadata.get('labels'), r, { optional: true });
  const appField = labels?.get('app');
  const app = appField === undefined ? undefined : readApp(appField, r);
  return { name, namespace, labelApp: app === undefined ? undefined : { app } };
}

function readName(
  c: Cursor,
  r: Reporter,
  pattern: RegExp,
  maxLength: number,
  allowed: string,
  optional = false,
): string | undefined {
  const value = readString(c, r, { optional, nonEmpty: true, maxLength });
  if (value === undefined) return undefined;
  if (!pattern.test(value)) {
    r.error(c, `'${value}' is not a valid Kubernetes name (${allowed}; starting and ending with a letter or digit)`);
    return undefined;
  }
  return value;
}

/** An app name: a Kubernetes label value (used by `metadata.labels.app` and `spec.selector.app`). */
export function readApp(c: Cursor, r: Reporter): string | undefined {
  const value = readString(c, r, { optional: true, nonEmpty: true, maxLength: 63 });
  if (value === undefined) return undefined;
  if (!LABEL_VALUE.test(value)) {
    r.error(c, `'${value}' is not a valid label value (letters, digits, -, _ and .; starting and ending with a letter or digit)`);
    return undefined;
  }
  return value;
}
