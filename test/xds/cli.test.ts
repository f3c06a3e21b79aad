// `sergo xds` as a command: what it refuses at start (before listening), with the exit code of
// invalid input. (Running it is in faults.test.ts: started, killed with SIGKILL, restarted.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_INVALID_INPUT } from '../../src/cli/exit-codes.ts';
import { runSergo } from '../support/cli.ts';
import { freePort, limitRules, RulesDir, startServer, XdsProcess } from './support.ts';

describe('sergo xds (command line)', () => {
  const dir = new RulesDir();
  afterAll(() => dir.remove());

  it('does not start on invalid rules, and says where they are wrong', async () => {
    const bad = dir.save('bad.yaml', limitRules('foo', [{ name: 'bad', resource: '/a', threshold: -1 }]));
    const run = await runSergo(['xds', '--rules', bad, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(run.code).toBe(EXIT_INVALID_INPUT);
    expect(run.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:4:\\d+: RateLimitStrategy/bad: spec.threshold: must be between 0 and 2147483647, not -1`));
    expect(run.stderr).toContain('sergo xds: not started');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const server = await XdsProcess.start(['--rules', dir.save('ok.yaml', limitRules('foo', [{ name: 'ok', resource: '/a', threshold: 1 }]))], await freePort());
    await server.kill('SIGTERM');
    expect(server.exitCode).toBe(0);
    expect(server.logs()).toContain('SIGTERM received, stopping');
  });

  it('needs rules or a configuration, and a --config of the form resource=file', async () => {
    const none = await runSergo(['xds', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(none.code).toBe(EXIT_INVALID_INPUT);
    expect(none.stderr).toContain('no rule files or directories');
    const config = await runSergo(['xds', '--config', 'foo.json']);
    expect(config.code).toBe(EXIT_INVALID_INPUT);
    expect(config.stderr).toContain('expected sergo/<namespace>/<app>=FILE');
    const resource = dir.save('x.json', '{"version":1,"rules":[]}');
    const wrong = await runSergo(['xds', '--config', `foo=${resource}`, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(wrong.stderr).toContain('the resource must be sergo/<namespace>/<app>');
  });

  it('refuses --rules - (standard input cannot be watched), without reading it', async () => {
    const run = await runSergo(['xds', '--rules', '-', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { input: limitRules('foo', [{ name: 'ok', resource: '/a', threshold: 1 }]) });
    expect(run.code).toBe(EXIT_INVALID_INPUT);
    expect(run.stderr).toContain('sergo xds: --rules -: standard input cannot be watched or read again on SIGHUP; give rule files or directories');
    expect(run.stderr).toContain('sergo xds: not started');
  });

  it('an empty rules directory is an error (with valid rules beside it too); --allow-empty makes it a warning', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sergo-xds-empty-'));
    try {
      const alone = await runSergo(['xds', '--rules', empty, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
      expect(alone.code).toBe(EXIT_INVALID_INPUT);
      expect(alone.stderr).toContain(`${empty}: no *.yaml, *.yml or *.json file in this directory\n`);
      expect(alone.stderr).toContain('sergo xds: not started');
      const file = dir.save('beside.yaml', limitRules('foo', [{ name: 'ok', resource: '/a', threshold: 1 }]));
      await expect(startServer({ rules: [file, empty], watch: false })).rejects.toThrow(`${empty}: no *.yaml, *.yml or *.json file in this directory`);
      const allowed = await startServer({ rules: [file, empty], watch: false, allowEmpty: true });
      try {
        expect(allowed.handle.status().catalog.apps.map((a) => a.resource)).toEqual(['sergo/default/foo']);
        expect(allowed.log.some((l) => l.includes(`${empty}: warning: no *.yaml, *.yml or *.json file in this directory`))).toBe(true);
      } finally {
        await allowed.handle.close();
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
