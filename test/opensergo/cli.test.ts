// `sergo xds --opensergo` as a command: the flags it refuses before anything starts (exit 2), and a
// run against a scripted control plane that stops on SIGTERM with exit code 0.
import { describe, expect, it } from 'vitest';
import { EXIT_INVALID_INPUT } from '../../src/cli/exit-codes.ts';
import { runSergo } from '../support/cli.ts';
import { freePort, XdsProcess } from '../xds/support.ts';
import { ScriptedPeer } from './peer.ts';

const ANY = ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'];

describe('sergo xds --opensergo (command line)', () => {
  it('refuses --opensergo without --app, with --rules, with a bad address, and --app without --opensergo', async () => {
    const cases: Array<[string[], string]> = [
      [['--opensergo', '127.0.0.1:10246'], 'sergo: --opensergo: name the apps to subscribe to with --app'],
      [['--opensergo', '127.0.0.1:10246', '--app', 'foo', '--rules', 'x.yaml'], 'sergo: --opensergo: the rules come from the control plane; give no --rules or --config'],
      [['--opensergo', 'nowhere', '--app', 'foo'], 'sergo: --opensergo "nowhere": expected HOST:PORT'],
      [['--rules', 'x.yaml', '--app', 'foo'], 'sergo: --app: only with --opensergo (rule files name their apps)'],
    ];
    for (const [args, message] of cases) {
      const run = await runSergo(['xds', ...args, ...ANY]);
      expect(run.code, args.join(' ')).toBe(EXIT_INVALID_INPUT);
      expect(run.stderr).toContain(message);
    }
  });

  it('subscribes and stops on SIGTERM with exit code 0', async () => {
    const peer = await ScriptedPeer.start();
    try {
      const server = await XdsProcess.start(['--opensergo', peer.address, '--app', 'foo', '--app', 'bar'], await freePort());
      await peer.stream(0, 10);
      expect((await server.status()).source).toMatchObject({ type: 'opensergo', controlPlane: { address: peer.address, state: 'connected' } });
      await server.kill('SIGTERM');
      expect(server.exitCode).toBe(0);
      expect(server.logs()).toContain(`connected to the OpenSergo control plane at ${peer.address}`);
    } finally {
      await peer.close();
    }
  });
});
