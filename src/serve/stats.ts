// The admin endpoints' views of the stats: the filter's metrics (names with Istio-style encoded tags,
// `sergo.sergo_namespace=.=<ns>;.;…;sergo_rule=.=<name>;.;…;requests_passed`) as Prometheus text, and Envoy-like plain `/stats`.
import { encodeTag, decodeStatName } from '../emit/metrics.ts';
import type { MetricKind } from '../host/index.ts';

export { decodeStatName, type DecodedName } from '../emit/metrics.ts';

export interface StatSample {
  /** the stat name as defined (tags encoded in it) */
  name: string;
  type: MetricKind;
  value: bigint;
  /** histograms: number of recorded values */
  count?: number;
  /** labels to add to the decoded ones (serve's own metrics) */
  labels?: Record<string, string>;
}

/** A Prometheus metric name: `sergo.requests_passed` → `sergo_requests_passed`. */
export function prometheusName(name: string): string {
  let out = name.replace(/[^A-Za-z0-9_:]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

function labelName(name: string): string {
  const out = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/** Label value escaping of the text exposition format: backslash, double quote, line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([k, v]) => `${labelName(k)}="${escapeLabelValue(v)}"`).join(',')}}`;
}

interface Family {
  type: MetricKind;
  lines: { labels: string; text: string[] }[];
}

/**
 * Prometheus text format 0.0.4: one `# TYPE` line per family, its samples together, families and
 * samples sorted. Counters and gauges as is; histograms (the filter defines none) as summaries with
 * `_sum` and `_count`.
 */
export function renderPrometheus(samples: Iterable<StatSample>): string {
  const families = new Map<string, Family>();
  for (const s of samples) {
    const decoded = decodeStatName(s.name);
    const name = prometheusName(decoded.name);
    const labels = [...decoded.labels, ...Object.entries(s.labels ?? {})];
    let family = families.get(name);
    if (!family) families.set(name, (family = { type: s.type, lines: [] }));
    if (family.type !== s.type) continue; // one type per family; the first definition wins
    const l = labelText(labels);
    const text = s.type === 'histogram' ? [`${name}_sum${l} ${s.value}`, `${name}_count${l} ${s.count ?? 0}`] : [`${name}${l} ${s.value}`];
    family.lines.push({ labels: l, text });
  }
  let out = '';
  for (const name of [...families.keys()].sort()) {
    const family = families.get(name)!;
    out += `# TYPE ${name} ${family.type === 'histogram' ? 'summary' : family.type}\n`;
    family.lines.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    for (const line of family.lines) out += `${line.text.join('\n')}\n`;
  }
  return out;
}

/** Envoy-like `/stats`: `name: value`, one per line, sorted by name. */
export function renderPlain(samples: Iterable<StatSample>): string {
  const lines: string[] = [];
  for (const s of samples) {
    const labels = Object.entries(s.labels ?? {})
      .map(([k, v]) => encodeTag(k, v))
      .join('');
    const name = labels === '' ? s.name : insertTags(s.name, labels);
    lines.push(s.type === 'histogram' ? `${name}: P0(nan) count=${s.count ?? 0} sum=${s.value}` : `${name}: ${s.value}`);
  }
  lines.sort();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `serve.upstream_errors` + `reason=.=connect;.;` → `serve.reason=.=connect;.;upstream_errors`. */
function insertTags(name: string, tags: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? `${tags}${name}` : `${name.slice(0, dot + 1)}${tags}${name.slice(dot + 1)}`;
}
