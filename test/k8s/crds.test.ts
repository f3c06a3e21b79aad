// deploy/crds.yaml in the real API server: OpenSergo's published examples apply as they are, and the
// schema matches the translator — what the API server refuses the translator refuses too (so no
// object is refused that sergo would enforce), and the bounds the translator accepts apply.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { translateNamespace, type SourceObject } from '../../src/controller/translate.ts';
import { example, examplesDir } from '../support/paths.ts';
import { ApiServer, haveApiServer } from './support.ts';

const available = haveApiServer('test/k8s/crds.test.ts');
/** Not YAML upstream (an unterminated quote): neither kubectl nor the translator can read it. */
const NOT_YAML = ['zh-adaptive-overload-protection-strategy.yaml'];
const V1 = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1';

/** Objects each with one problem in one field: [what, YAML, the field the API server names]. */
const REFUSED: Array<[string, string, string]> = [
  ['a negative threshold', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: -1, statDurationSeconds: 1 }`, 'spec.threshold'],
  ['a threshold above int32', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 2147483648, statDurationSeconds: 1 }`, 'spec.threshold'],
  ['an unknown limitMode', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Cluster, threshold: 1, statDurationSeconds: 1 }`, 'spec.limitMode'],
  ['no window', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 1 }`, 'spec'],
  ['both windows', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 1, statDurationSeconds: 1, statDuration: 1s }`, 'spec'],
  ['failOpen on a Local limit', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 1, statDurationSeconds: 1, failOpen: true }`, 'spec'],
  ['a batch above the threshold', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Global, threshold: 5, statDurationSeconds: 1, batch: 6 }`, 'spec.batch'],
  ['a fractional duration', `${V1}\nkind: ThrottlingStrategy\nmetadata: { name: x }\nspec: { minIntervalOfRequests: 1.5s, queueTimeout: 1s }`, 'spec.minIntervalOfRequests'],
  ['a zero queueTimeout', `${V1}\nkind: ThrottlingStrategy\nmetadata: { name: x }\nspec: { minIntervalOfRequests: 0ms, queueTimeout: 0s }`, 'spec.queueTimeout'],
  ['a ratio of 101%', `${V1}\nkind: CircuitBreakerStrategy\nmetadata: { name: x }\nspec: { strategy: ErrorRequestRatio, triggerRatio: '101%', statDuration: 1s, recoveryTimeout: 1s, minRequestAmount: 1 }`, 'spec.triggerRatio'],
  ['minRequestAmount 0', `${V1}\nkind: CircuitBreakerStrategy\nmetadata: { name: x }\nspec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: 1s, recoveryTimeout: 1s, minRequestAmount: 0 }`, 'spec.minRequestAmount'],
  ['SlowRequestRatio without slowConditions', `${V1}\nkind: CircuitBreakerStrategy\nmetadata: { name: x }\nspec: { strategy: SlowRequestRatio, triggerRatio: '50%', statDuration: 1s, recoveryTimeout: 1s, minRequestAmount: 1 }`, 'spec.slowConditions'],
  ['a negative maxConcurrency', `${V1}\nkind: ConcurrencyLimitStrategy\nmetadata: { name: x }\nspec: { maxConcurrency: -1, limitMode: Local }`, 'spec.maxConcurrency'],
  ['a status code of 100', `${V1}\nkind: HttpRequestFallbackAction\nmetadata: { name: x }\nspec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 100 } }`, 'spec.behaviorDesc.responseStatusCode'],
  ['a header name with a space', `${V1}\nkind: HttpRequestFallbackAction\nmetadata: { name: x }\nspec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 429, responseAdditionalHeaders: [{ key: 'x y', value: v }] } }`, 'spec.behaviorDesc.responseAdditionalHeaders[0].key'],
  ['a header value with a newline', `${V1}\nkind: HttpRequestFallbackAction\nmetadata: { name: x }\nspec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 429, responseAdditionalHeaders: [{ key: x, value: "a\\nb" }] } }`, 'spec.behaviorDesc.responseAdditionalHeaders[0].value'],
  ['a rule without targets', `${V1}\nkind: FaultToleranceRule\nmetadata: { name: x, labels: { app: a } }\nspec: { targets: [], strategies: [{ name: s }] }`, 'spec.targets'],
  ['a strategy reference to an unknown kind', `${V1}\nkind: FaultToleranceRule\nmetadata: { name: x, labels: { app: a } }\nspec: { targets: [{ targetResourceName: /a }], strategies: [{ name: s, kind: RetryStrategy }] }`, 'spec.strategies[0].kind'],
];

/** At the edges of what the translator accepts: the API server must accept them too. */
const ACCEPTED: Array<[string, string]> = [
  ['the largest threshold and window', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Local, threshold: 2147483647, statDurationSeconds: 2147483 }`],
  ['a zero interval', `${V1}\nkind: ThrottlingStrategy\nmetadata: { name: x }\nspec: { minIntervalOfRequests: 0ms, queueTimeout: 1minute }`],
  ['an ErrorRequestRatio with status ranges', `${V1}\nkind: CircuitBreakerStrategy\nmetadata: { name: x }\nspec: { strategy: ErrorRequestRatio, triggerRatio: '0%', statDuration: 1d, recoveryTimeout: 1ms, minRequestAmount: 1, errorConditions: { statusCodes: [500, '502-504'] } }`],
  ['a gRPC status by name', `${V1}\nkind: HttpRequestFallbackAction\nmetadata: { name: x }\nspec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 599, responseGrpcStatus: RESOURCE_EXHAUSTED } }`],
  ['a Global limit with failOpen and a batch', `${V1}\nkind: RateLimitStrategy\nmetadata: { name: x }\nspec: { metricType: RequestAmount, limitMode: Global, threshold: 5, statDurationSeconds: 1, failOpen: true, batch: 5 }`],
];

function translatorErrors(yaml: string): string[] {
  const objects = parseAllDocuments(yaml).map((d) => d.toJS() as SourceObject);
  for (const o of objects) o.metadata.namespace = 'check';
  const { problems } = translateNamespace('check', objects, { allowGlobalToLocal: false });
  return [...problems.values()].flat().filter((p) => p.severity === 'error').map((p) => `${p.field}: ${p.message}`);
}

describe.skipIf(!available)('deploy/crds.yaml in the real API server', () => {
  let api: ApiServer;

  beforeAll(async () => {
    api = await ApiServer.start();
    await api.installCrds();
    for (const ns of ['check', 'prod']) await api.kubectl(['create', 'namespace', ns]);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('accepts every OpenSergo example that is YAML, as it is published', async () => {
    const files = [
      ...readdirSync(`${examplesDir}/fault-tolerance`).filter((f) => !NOT_YAML.includes(f)).map((f) => `fault-tolerance/${f}`),
      'control-plane-samples/opensergo_new_sample.yaml',
      'sentinel-demo/opensergo_cr_sample.yml',
    ];
    expect(files.length).toBe(8);
    for (const file of files) {
      const run = await api.tryKubectl(['create', '--dry-run=server', '-n', file.includes('combined') ? 'prod' : 'check', '-f', example(file)]);
      expect(`${file}: ${run.ok ? 'accepted' : run.stderr}`).toBe(`${file}: accepted`);
    }
  });

  it.each(REFUSED)('refuses %s, as the translator does', async (_what, yaml, field) => {
    const run = await api.tryKubectl(['create', '--dry-run=server', '-n', 'check', '-f', '-'], yaml);
    expect(run.ok).toBe(false);
    expect(run.stderr).toContain(field);
    expect(translatorErrors(yaml)).not.toEqual([]);
  });

  it.each(ACCEPTED)('accepts %s, as the translator does', async (_what, yaml) => {
    const run = await api.tryKubectl(['create', '--dry-run=server', '-n', 'check', '-f', '-'], yaml);
    expect(run.stderr).toBe('');
    expect(run.ok).toBe(true);
    expect(translatorErrors(yaml)).toEqual([]);
  });
});
