// The common preamble of an Envoy suite: before its tests a loopback upstream and an Envoy in front
// of it (launcher.start), both stopped after them.
import { afterAll, beforeAll } from 'vitest';
import type { EnvoyOptions, Launcher, RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';

export interface EnvoyOverUpstream {
  readonly envoy: RunningEnvoy;
  readonly upstream: Upstream;
}

/** Call in a describe block; the getters are valid inside its tests. */
export function envoyOverUpstream(launcher: Launcher, options: Omit<EnvoyOptions, 'upstreamPort'>): EnvoyOverUpstream {
  let upstream: Upstream | undefined;
  let envoy: RunningEnvoy | undefined;
  beforeAll(async () => {
    upstream = await Upstream.start();
    envoy = await launcher.start({ ...options, upstreamPort: upstream.port });
  });
  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
  });
  return {
    get envoy() {
      if (envoy === undefined) throw new Error('Envoy is not started (outside a test?)');
      return envoy;
    },
    get upstream() {
      if (upstream === undefined) throw new Error('the upstream is not started (outside a test?)');
      return upstream;
    },
  };
}
