// Rules → a running Envoy: free loopback ports, the bootstrap from `sergo translate --format envoy`
// (optionally rewritten, e.g. by a benchmark that swaps the HTTP filter), Envoy started from it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './admin.ts';
import { envoyBinary, ENVOY_INSTALL } from './binary.ts';
import { translateBootstrap } from './bootstrap.ts';
import { SERGO_WASM } from './paths.ts';
import { EnvoyProcess } from './process.ts';

export interface LaunchOptions {
  /** the OpenSergo rules: a file, or the YAML text (written to a temporary file) */
  rules: { file: string } | { text: string };
  /** http://HOST:PORT of the upstream */
  upstream: string;
  /** worker threads (default 2) */
  concurrency?: number;
  /** http://HOST:PORT of the rate-limit service (limitMode Global rules) */
  rls?: string;
  /** the module (default build/sergo.wasm) */
  module?: string;
  /** more `sergo translate` flags */
  translateArgs?: readonly string[];
  /** rewrites the emitted bootstrap before Envoy reads it (benchmarks' variants) */
  rewrite?: (bootstrap: string) => string;
  /** Envoy's binary (default: envoyBinary(), which installs the pinned one when missing) */
  binary?: string;
  logLevel?: string;
  /** taskset CPU list */
  cpus?: string;
}

export interface LaunchedEnvoy {
  envoy: EnvoyProcess;
  /** http://127.0.0.1:PORT of the listener and of the admin interface */
  url: string;
  adminUrl: string;
  /** the bootstrap as `sergo translate` wrote it (before any rewrite) */
  bootstrap: string;
  /** stops Envoy and removes its temporary folder */
  stop(): Promise<void>;
}

export async function launchEnvoy(o: LaunchOptions): Promise<LaunchedEnvoy> {
  const binary = o.binary ?? resolveBinary();
  const [listen, admin] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'sergo-envoy-'));
  try {
    const rulesFile = 'file' in o.rules ? o.rules.file : join(dir, 'rules.yaml');
    if ('text' in o.rules) writeFileSync(rulesFile, o.rules.text);
    const bootstrap = translateBootstrap(rulesFile, dir, {
      upstream: o.upstream, rls: o.rls, listen: `127.0.0.1:${listen}`, admin: `127.0.0.1:${admin}`, module: o.module ?? SERGO_WASM,
    }, o.translateArgs);
    const bootstrapFile = join(dir, 'bootstrap.yaml');
    if (o.rewrite !== undefined) writeFileSync(bootstrapFile, o.rewrite(bootstrap));
    const adminUrl = `http://127.0.0.1:${admin}`;
    const envoy = await EnvoyProcess.start({ binary, bootstrapFile, adminUrl, concurrency: o.concurrency ?? 2, logLevel: o.logLevel, cpus: o.cpus });
    const stop = async () => {
      await envoy.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return { envoy, url: `http://127.0.0.1:${listen}`, adminUrl, bootstrap, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function resolveBinary(): string {
  const found = envoyBinary();
  if (found.path === undefined) throw new Error(`no Envoy binary (${found.error}); install it with ${ENVOY_INSTALL}`);
  return found.path;
}
