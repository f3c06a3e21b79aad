// One configuration per app: choosing the app, and what happens with several.
import { describe, expect, it } from 'vitest';
import { join, rateLimit, rule } from '../support/documents.ts';
import { translateInline, validateInline } from '../support/translate.ts';

const twoApps = join(rateLimit('rl'), rule('ra', 'app-a', ['/a'], ['rl']), rule('rb', 'app-b', ['/b'], ['rl']));

describe('app selection', () => {
  it('takes the only app without --app', async () => {
    const result = await translateInline(join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl'])));
    expect(result.app).toBe('app-a');
    expect(result.config?.rules).toHaveLength(1);
  });

  it('refuses several apps without --app and lists them', async () => {
    const result = await translateInline(twoApps);
    expect(result.config).toBeUndefined();
    expect(result.errorLines).toEqual(['sergo: the files hold rules for several apps (app-a, app-b); choose one with --app']);
    expect(result.apps).toEqual(['app-a', 'app-b']);
  });

  it('emits only the chosen app', async () => {
    const result = await translateInline(twoApps, { app: 'app-b' });
    expect(result.errors).toEqual([]);
    expect(result.config?.rules.map((r) => r.id)).toEqual(['default/app-b/rb/RateLimitStrategy/rl@/b']);
  });

  it('warns (empty rules) when the chosen app has no rule', async () => {
    const result = await translateInline(twoApps, { app: 'app-c' });
    expect(result.errors).toEqual([]);
    expect(result.config?.rules).toEqual([]);
    expect(result.warningLines).toEqual(['sergo: warning: no FaultToleranceRule for app app-c (apps found: app-a, app-b); the configuration has no rules']);
  });

  it('reads the app from metadata.labels.app when there is no selector', async () => {
    const yaml = `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata:
  name: r
  labels:
    app: labelled
spec:
  targets: [{ targetResourceName: /a }]
  strategies: [{ name: rl }]
---
${rateLimit('rl')}`;
    expect((await translateInline(yaml)).app).toBe('labelled');
  });

  it('validates every app at once', async () => {
    const result = await validateInline(twoApps);
    expect(result.errors).toEqual([]);
    expect(result.apps).toEqual(['app-a', 'app-b']);
    expect(result.model?.rules).toHaveLength(2);
  });
});
