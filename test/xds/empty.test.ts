// sergo xds and empty rules (issue 12): an empty rule file is an error (the catalog keeps serving),
// and an edit that leaves no rule for any app is not pushed unless --allow-empty.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { limitRules, RulesDir, startServer, type TestServer } from './support.ts';

const STRATEGY_ONLY = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: RateLimitStrategy\nmetadata: { name: rl, labels: { app: foo } }\n' +
  'spec: { metricType: RequestAmount, limitMode: Local, threshold: 1, statDurationSeconds: 1 }\n';

let dir: RulesDir | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.handle.close();
  dir?.remove();
  server = undefined;
});

const apps = () => server!.handle.status().catalog.apps.map((a) => `${a.resource}:${a.rules}`);

describe('sergo xds: no silent empty catalog', () => {
  it('a truncated rule file is an error; an edit to no rule is not pushed; the catalog keeps serving', async () => {
    dir = new RulesDir();
    const file = dir.save('foo.yaml', limitRules('foo', [{ name: 'a', resource: '/a', threshold: 5 }]));
    server = await startServer({ rules: [file], watch: false });
    expect(apps()).toEqual(['sergo/default/foo:1']);
    const version = server.handle.status().catalog.version;

    writeFileSync(file, '');
    expect(await server.handle.reload()).toBe('invalid');
    expect(server.log.some((l) => l.includes(`${file}: holds no object: an empty input drops every rule`))).toBe(true);

    writeFileSync(file, STRATEGY_ONLY);
    expect(await server.handle.reload()).toBe('invalid');
    expect(server.log.some((l) => l.includes('the rules now yield no rule for any app: not pushed'))).toBe(true);
    expect(server.handle.status().catalog.version).toBe(version);
    expect(apps()).toEqual(['sergo/default/foo:1']);
  });

  it('--allow-empty pushes it', async () => {
    dir = new RulesDir();
    const file = dir.save('foo.yaml', limitRules('foo', [{ name: 'a', resource: '/a', threshold: 5 }]));
    server = await startServer({ rules: [file], watch: false, allowEmpty: true });
    writeFileSync(file, '');
    expect(await server.handle.reload()).toBe('applied');
    expect(apps()).toEqual([]);
  });
});
