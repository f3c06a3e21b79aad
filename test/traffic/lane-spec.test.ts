// TrafficLane → the IR → the filter's `lanes` section: the shape docs/traffic.md defines, and every
// problem reported at its file, line and column, naming the object and the field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';
import { positionOf } from '../support/workspace.ts';

const FIXED = readFileSync(join(import.meta.dirname, 'fixtures', 'traffic-lane-fixed.yaml'), 'utf8');

function lane(name: string, rules: string, app = 'entry', extra = ''): string {
  return `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata:
  name: ${name}
${extra}spec:
  selector:
    app: ${app}
  rules:
${rules}`;
}

const GRAY = `    traffic:
      http:
        - uri: { prefix: /api }
          method: { exact: GET }
        - headers: { x-beta: {} }
          queryParams: { tester: { exact: "1" } }
    workload:
      selector: { version: v2 }
    lane:
      name: gray
`;

describe('TrafficLane', () => {
  it("upstream's example, its YAML repaired, translates to what it intends", async () => {
    const result = await translateInline(FIXED);
    expect(result.errorLines).toEqual([]);
    expect(result.app).toBe('spring-cloud-a');
    expect(result.config?.lanes).toEqual({
      header: 'x-opensergo-traffic',
      baggageKey: 'x-opensergo-traffic',
      names: ['Gray'],
      colour: [{ lane: 'Gray', when: [{ path: { exact: '/index' }, headers: [['x-user-id', { exact: '12345' }]] }] }],
    });
    expect(result.deployment?.lanes?.lanes[0]?.workloadLabels).toEqual([['tag', 'gray']]);
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('blocks OR, conditions AND, presence and query parameters; the default key is x-sergo-lane', async () => {
    const result = await translateInline(lane('gray', GRAY));
    expect(result.errorLines).toEqual([]);
    expect(result.config?.lanes).toEqual({
      header: 'x-sergo-lane',
      baggageKey: 'x-sergo-lane',
      names: ['gray'],
      colour: [{ lane: 'gray', when: [
        { path: { prefix: '/api' }, method: { exact: 'GET' } },
        { headers: [['x-beta', { present: true }]], query: [['tester', { exact: '1' }]] },
      ] }],
    });
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it("another app's proxies carry every lane of the namespace but colour none", async () => {
    const other = lane('blue', GRAY.replace('name: gray', 'name: blue'), 'other');
    const result = await translateInline(`${lane('gray', GRAY)}---\n${other}`, { app: 'next' });
    expect(result.errorLines).toEqual([]);
    expect(result.config?.lanes).toMatchObject({ names: ['gray', 'blue'], colour: [] });
    const entry = await translateInline(`${lane('gray', GRAY)}---\n${other}`, { app: 'other' });
    expect(entry.config?.lanes?.colour.map((c) => c.lane)).toEqual(['blue']);
  });

  it('lanes of another namespace are not carried', async () => {
    const result = await translateInline(`${lane('gray', GRAY)}---\n${lane('blue', GRAY.replace('name: gray', 'name: blue'), 'entry', '  namespace: prod\n')}`);
    expect(result.errorLines).toEqual([]);
    expect(result.config?.lanes?.names).toEqual(['gray']);
  });

  it('ignoreUriCase is kept for the path', async () => {
    const result = await translateInline(lane('gray', GRAY.replace('- uri: { prefix: /api }', '- uri: { prefix: /api }\n          ignoreUriCase: true')));
    expect(result.config?.lanes?.colour[0]?.when[0]).toEqual({ path: { prefix: '/api' }, ignoreCase: true, method: { exact: 'GET' } });
  });

  it.each([
    ['regex', GRAY.replace('{ prefix: /api }', '{ regex: "/api/.*" }'), '"/api/.*"', 'spec.rules.traffic.http[0].uri.regex', 'regex is not supported by TrafficLane'],
    ['authority', GRAY.replace('method: { exact: GET }', 'authority: { exact: a }'), 'authority', 'spec.rules.traffic.http[0].authority', 'is not supported by TrafficLane'],
    ['withoutHeaders', GRAY.replace('method: { exact: GET }', 'withoutHeaders: { a: {} }'), 'withoutHeaders', 'spec.rules.traffic.http[0].withoutHeaders', 'is not supported'],
    ['exact and prefix', GRAY.replace('{ exact: GET }', '{ exact: GET, prefix: G }'), 'method', 'spec.rules.traffic.http[0].method', 'one of exact and prefix'],
    ['no condition kind on uri', GRAY.replace('{ prefix: /api }', '{}'), 'uri', 'spec.rules.traffic.http[0].uri', 'must give exact or prefix'],
    ['a lane name with a space', GRAY.replace('name: gray', 'name: "gr ay"'), '"gr ay"', 'spec.rules.lane.name', 'is not a valid lane name'],
    ['no lane', GRAY.replace(/    lane:\n      name: gray\n/, ''), 'rules:', 'spec.rules.lane', 'is required'],
    ['no traffic', GRAY.replace(/    traffic:[^]*?    workload:/, '    workload:'), 'rules:', 'spec.rules.traffic', 'is required'],
    ['no workload', GRAY.replace('    workload:\n      selector: { version: v2 }\n', ''), 'rules:', 'spec.rules.workload', 'is required'],
    ['an empty workload selector', GRAY.replace('selector: { version: v2 }', 'selector: {}'), 'selector: {}', 'spec.rules.workload.selector', 'at least one label'],
    ['a bad traceIdBaggage', `${GRAY}    traceIdBaggage: "x lane"\n`, '"x lane"', 'spec.rules.traceIdBaggage', 'is not an HTTP header name'],
  ])('refuses %s, at its position', async (_what, rules, marker, field, message) => {
    const text = lane('gray', rules);
    const result = await translateInline(text);
    expect(result.config).toBeUndefined();
    const pos = positionOf(text, marker);
    expect(result.errorLines).toContainEqual(expect.stringContaining(`rules.yaml:${pos.line}:${pos.col}: TrafficLane/gray: ${field}: `));
    expect(result.errorLines.join('\n')).toContain(message);
  });

  it('refuses a TrafficLane without an app', async () => {
    const text = lane('gray', GRAY).replace('  selector:\n    app: entry\n', '');
    const result = await translateInline(text);
    expect(result.errorLines.join('\n')).toMatch(/TrafficLane\/gray: spec.selector: is required/);
  });

  it('refuses a second lane of the same name, and a second key, in one namespace', async () => {
    const again = lane('gray-2', GRAY);
    const dup = await translateInline(`${lane('gray', GRAY)}---\n${again}`);
    expect(dup.errorLines.join('\n')).toMatch(/:\d+:\d+: TrafficLane\/gray-2: spec.rules.lane.name: lane gray is already defined in namespace default by TrafficLane\/gray/);
    const text = `${lane('gray', GRAY)}---\n${lane('blue', `${GRAY.replace('name: gray', 'name: blue')}    traceIdBaggage: x-other\n`)}`;
    const keys = await translateInline(text);
    const pos = positionOf(text, 'x-other');
    expect(keys.errorLines).toContainEqual(expect.stringMatching(new RegExp(`rules.yaml:${pos.line}:${pos.col}: TrafficLane/blue: spec.rules.traceIdBaggage: 'x-other' differs from 'x-sergo-lane'`)));
  });
});

describe('sergo validate', () => {
  it('counts the TrafficLanes', async () => {
    const { runSergo, lines } = await import('../support/cli.ts');
    const { writeFiles } = await import('../support/workspace.ts');
    const paths = writeFiles({ 'lane.yaml': FIXED });
    const run = await runSergo(['validate', paths['lane.yaml']!]);
    expect([run.code, lines(run.stderr)]).toEqual([0, ['ok: 0 rules (1 file); 1 TrafficLane']]);
  });
});
