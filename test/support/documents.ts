// Small OpenSergo documents for inline test inputs. `spec` is YAML text indented under `spec:`.

const API_VERSION = 'fault-tolerance.opensergo.io/v1alpha1';

export interface DocumentOptions {
  namespace?: string;
  app?: string;
}

export function objectDoc(kind: string, name: string, spec: string, opts: DocumentOptions = {}): string {
  const lines = [`apiVersion: ${API_VERSION}`, `kind: ${kind}`, 'metadata:', `  name: ${name}`];
  if (opts.namespace !== undefined) lines.push(`  namespace: ${opts.namespace}`);
  if (opts.app !== undefined) lines.push('  labels:', `    app: ${opts.app}`);
  lines.push('spec:', indent(spec));
  return `${lines.join('\n')}\n`;
}

export function rateLimit(name: string, spec = 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 10\nstatDurationSeconds: 1', opts?: DocumentOptions): string {
  return objectDoc('RateLimitStrategy', name, spec, opts);
}

export function throttling(name: string, spec = "minIntervalOfRequests: '20ms'\nqueueTimeout: '500ms'", opts?: DocumentOptions): string {
  return objectDoc('ThrottlingStrategy', name, spec, opts);
}

export function concurrency(name: string, spec = 'maxConcurrency: 8\nlimitMode: Local', opts?: DocumentOptions): string {
  return objectDoc('ConcurrencyLimitStrategy', name, spec, opts);
}

export function fallbackAction(name: string, spec?: string, opts?: DocumentOptions): string {
  const body =
    spec ??
    'behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 429\n  responseContentBody: "Blocked"\n  responseAdditionalHeaders:\n    - key: X-Limit\n      value: "foo"';
  return objectDoc('HttpRequestFallbackAction', name, body, opts);
}

/** A FaultToleranceRule for `app` with the given targets and strategy names (`kind` optional as `Kind/name`). */
export function rule(
  name: string,
  app: string,
  targets: string[],
  strategies: string[],
  extra: { fallback?: string; namespace?: string } = {},
): string {
  const spec = [
    'selector:',
    `  app: ${app}`,
    'targets:',
    ...targets.map((t) => `  - targetResourceName: '${t}'`),
    'strategies:',
    ...strategies.flatMap((s) => {
      const [kind, strategyName] = s.includes('/') ? s.split('/') : [undefined, s];
      return kind === undefined ? [`  - name: ${strategyName}`] : [`  - name: ${strategyName}`, `    kind: ${kind}`];
    }),
    ...(extra.fallback === undefined ? [] : [`fallbackAction: ${extra.fallback}`]),
  ].join('\n');
  return objectDoc('FaultToleranceRule', name, spec, { namespace: extra.namespace });
}

export function join(...docs: string[]): string {
  return docs.join('---\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}
