// What a push of a large configuration costs a real Envoy, module builds side by side (not part of
// `npm run bench`):   npx tsx bench/envoy-push.ts [--rules 10000] [--edits 4] [--rounds 2] a.wasm b.wasm …
// Per module and round: `sergo xds` serves bench/lib/rules.ts openSergoYaml(RULES) to an Envoy with 2
// workers; then EDITS saves, each renaming one rule's target (RULES − 1 rules kept), each timed from
// the push to Envoy's ACK, with Envoy's CPU over that time and its resident memory after the edits.
// A push costs Envoy a fresh canary VM (a first on_configure) and, per VM it keeps (each worker's and
// the main thread's), on_configure on a new root context. Rounds alternate the modules.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchEnvoy, sleep } from '../src/envoy/index.ts';
import { startXds } from '../src/xds/index.ts';
import { openSergoYaml } from './lib/rules.ts';
import { processCpuSeconds, residentBytes } from './lib/processes.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return Number(value) || fallback;
};
const RULES = option('--rules', 10_000);
const EDITS = option('--edits', 4);
const ROUNDS = option('--rounds', 2);
const modules = args.map((m) => resolve(m));
if (modules.length === 0) throw new Error('usage: npx tsx bench/envoy-push.ts [--rules N] [--edits N] [--rounds N] a.wasm [b.wasm …]');

const base = openSergoYaml(RULES);
/** Edit k: rule-0's target renamed (a rule gone, a rule new; every other rule kept). */
const edited = (k: number) => base.replace("targetResourceName: 'GET:/api/v0/items'", `targetResourceName: 'GET:/api/v0/items-${k}'`);

interface Push { ackMs: number; cpuMs: number }

async function pushes(module: string): Promise<{ first: Push; edits: Push[]; rssMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-push-'));
  const file = join(dir, 'rules.yaml');
  const save = (text: string) => { writeFileSync(`${file}.tmp`, text); renameSync(`${file}.tmp`, file); };
  save(base);
  const upstream = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const port = (upstream.address() as { port: number }).port;
  const xds = await startXds({ rules: [dir], listen: '127.0.0.1:0', admin: '127.0.0.1:0', module, logLevel: 'warn', write: () => {} });
  const startCpu = { at: performance.now() };
  const launched = await launchEnvoy({ rules: { file }, upstream: `http://127.0.0.1:${port}`, translateArgs: ['--xds', xds.address], concurrency: 2, module, logLevel: 'warn' });
  const pid = launched.envoy.pid;
  try {
    await acked(xds, undefined);
    const first = { ackMs: performance.now() - startCpu.at, cpuMs: processCpuSeconds(pid) * 1000 };
    const edits: Push[] = [];
    for (let k = 1; k <= EDITS; k++) {
      await sleep(500);
      const before = xds.status().nodes[0]?.running ?? undefined;
      const cpu0 = processCpuSeconds(pid);
      const t0 = performance.now();
      save(edited(k));
      await acked(xds, before);
      edits.push({ ackMs: performance.now() - t0, cpuMs: (processCpuSeconds(pid) - cpu0) * 1000 });
    }
    return { first, edits, rssMiB: residentBytes(pid) / 2 ** 20 };
  } finally {
    await launched.stop();
    await xds.close();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Until Envoy ACKed a version other than `before`. */
async function acked(xds: Awaited<ReturnType<typeof startXds>>, before: string | undefined): Promise<void> {
  const deadline = performance.now() + 300_000;
  for (;;) {
    const node = xds.status().nodes[0];
    if (node?.state === 'ACKed' && node.running === node.sent && node.running !== before) return;
    if (performance.now() > deadline) throw new Error('no ACK within 300 s');
    await sleep(5);
  }
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const results = new Map<string, { first: Push[]; edits: Push[]; rss: number[] }>();
for (let r = 0; r < ROUNDS; r++) {
  for (const m of modules) {
    process.stderr.write(`round ${r + 1}/${ROUNDS}: ${m} …\n`);
    const got = await pushes(m);
    const entry = results.get(m) ?? { first: [], edits: [], rss: [] };
    entry.first.push(got.first);
    entry.edits.push(...got.edits);
    entry.rss.push(got.rssMiB);
    results.set(m, entry);
  }
}
console.log(`Envoy (2 workers), ${RULES} rules; an edit renames one rule's target; medians over ${ROUNDS} rounds (edits: ${ROUNDS * EDITS})`);
console.log('| module | first config: start → ACK ms | Envoy CPU to then ms | edit: push → ACK ms | Envoy CPU per edit ms | RSS after MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
const first = modules[0]!;
for (const m of modules) {
  const e = results.get(m)!;
  const ratio = (v: number, base: number) => m === first ? '' : ` (${(v / base).toFixed(2)}×)`;
  const f = results.get(first)!;
  const cells = [
    median(e.first.map((p) => p.ackMs)), median(e.first.map((p) => p.cpuMs)),
    median(e.edits.map((p) => p.ackMs)), median(e.edits.map((p) => p.cpuMs)), median(e.rss),
  ];
  const bases = [
    median(f.first.map((p) => p.ackMs)), median(f.first.map((p) => p.cpuMs)),
    median(f.edits.map((p) => p.ackMs)), median(f.edits.map((p) => p.cpuMs)), median(f.rss),
  ];
  console.log(`| ${m} | ${cells.map((v, i) => `${v.toFixed(0)}${ratio(v, bases[i]!)}`).join(' | ')} |`);
}
