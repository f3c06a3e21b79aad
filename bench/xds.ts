// `sergo xds` in numbers:   npx tsx bench/xds.ts [--edits 20] [--streams 50]
//   1. a saved edit → enforced in a real Envoy (2 workers): EDITS saves of a rule file, each flipping
//      a rule between "refuse everything" and "admit everything", timed from the save (rename) to the
//      first request answered under the new rule, with the parts: the save → the push (the watcher's
//      100 ms debounce, reading and translating the rules), the push → Envoy's ACK.
//   2. STREAMS plain gRPC ADS clients at once: every first configuration, an edit reaching all.
// Medians with min–max; the machine's other load is whatever it is (say so when you quote them).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminGet, launchEnvoy, sleep } from '../src/envoy/index.ts';
import { startXds } from '../src/xds/index.ts';
import { SERGO_WASM } from '../src/envoy/paths.ts';
import { AdsClient } from '../test/xds/clients.ts';
import { limitRules } from '../test/xds/support.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => Number(args[args.indexOf(name) + 1] ?? fallback) || fallback;
const EDITS = args.includes('--edits') ? flag('--edits', 20) : 20;
const STREAMS = args.includes('--streams') ? flag('--streams', 50) : 50;

const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-xds-'));
const file = join(dir, 'rules.yaml');
const save = (text: string) => { writeFileSync(`${file}.tmp`, text); renameSync(`${file}.tmp`, file); };
/** Edit k: threshold 0 (refuse) for odd k, 1e6 (admit) for even; the window varies so parameters always change. */
const rulesOf = (k: number) => limitRules('bench', [{ name: 'flip', resource: '/t', threshold: k % 2 === 1 ? 0 : 1_000_000, seconds: k + 1 }]);

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `median ${median.toFixed(1)} ms (min ${s[0]!.toFixed(1)}, max ${s.at(-1)!.toFixed(1)}, n = ${s.length})`;
}

async function probe(url: string): Promise<number> {
  return (await adminGet(`${url}/t`)).status;
}

async function editToEnforcement(): Promise<void> {
  const upstream = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const upstreamPort = (upstream.address() as { port: number }).port;
  save(rulesOf(0));
  const sent: number[] = [];
  const xds = await startXds({ rules: [dir], listen: '127.0.0.1:0', admin: '127.0.0.1:0', module: SERGO_WASM, logLevel: 'info',
    write: (line) => { if (line.includes(': info: sent node')) sent.push(performance.now()); } });
  const envoy = await launchEnvoy({ rules: { file }, upstream: `http://127.0.0.1:${upstreamPort}`, translateArgs: ['--xds', xds.address], concurrency: 2 });
  const total: number[] = [];
  const toPush: number[] = [];
  const toAck: number[] = [];
  try {
    for (let k = 1; k <= EDITS; k++) {
      const want = k % 2 === 1 ? 429 : 200;
      await sleep(300);
      const pushesBefore = sent.length;
      const savedAt = performance.now();
      save(rulesOf(k));
      while ((await probe(envoy.url)) !== want) { /* probe until the new rule answers */ }
      total.push(performance.now() - savedAt);
      while (sent.length === pushesBefore) await sleep(1);
      toPush.push(sent[pushesBefore]! - savedAt);
      const ackedAt = await waitAck(xds);
      toAck.push(ackedAt - sent[pushesBefore]!);
    }
  } finally {
    await envoy.stop();
    await xds.close();
    upstream.close();
  }
  console.log(`1. saved edit → enforced in Envoy (2 workers), ${EDITS} edits`);
  console.log(`   total            ${summary(total)}`);
  console.log(`   save → push      ${summary(toPush)}   (watcher debounce 100 ms + read + translate)`);
  console.log(`   push → ACK       ${summary(toAck)}   (Envoy: canary VM, on_configure per worker)`);
}

async function waitAck(xds: Awaited<ReturnType<typeof startXds>>): Promise<number> {
  for (;;) {
    const node = xds.status().nodes[0];
    if (node?.state === 'ACKed' && node.running === node.sent) return performance.now();
    await sleep(1);
  }
}

async function manyStreams(): Promise<void> {
  save(limitRules('many', [{ name: 'many-limit', resource: '/x', threshold: 10 }]));
  const xds = await startXds({ rules: [dir], listen: '127.0.0.1:0', admin: '127.0.0.1:0', module: SERGO_WASM, logLevel: 'warn', write: () => {} });
  try {
    const opened = performance.now();
    const clients = Array.from({ length: STREAMS }, (_, i) => new AdsClient(xds.address, `node-${i}`, 'sergo/default/many'));
    await Promise.all(clients.map((c) => c.until(() => true)));
    const firstMs = performance.now() - opened;
    const edited = performance.now();
    save(limitRules('many', [{ name: 'many-limit', resource: '/x', threshold: 20 }]));
    await Promise.all(clients.map((c) => c.until((r) => r.configs.get(c.resource)?.rules[0]?.strategy.threshold === 20)));
    const editMs = performance.now() - edited;
    const rss = process.memoryUsage().rss / 2 ** 20;
    for (const c of clients) c.close();
    console.log(`2. ${STREAMS} gRPC ADS streams at once (one process with the server)`);
    console.log(`   all first configurations ${firstMs.toFixed(0)} ms after opening; an edit at all ${editMs.toFixed(0)} ms after the save; RSS ${rss.toFixed(0)} MiB`);
  } finally {
    await xds.close();
  }
}

try {
  await editToEnforcement();
  await manyStreams();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
