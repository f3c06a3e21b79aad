// A/B of module builds side by side, for choosing build flags and designs (not part of `npm run bench`):
//   npx tsx bench/ab.ts [rounds] a.wasm b.wasm …
// Per module: size, CPU ns per lifecycle for RateLimit alone and all four on one resource (src/host,
// rounds interleaved across modules), host calls per lifecycle of each, and on_configure of 10,000
// rules; medians, with the first module as the baseline of every ratio.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModule } from '../src/host/index.ts';
import { translateFiles } from '../src/translate.ts';
import { allFour, filterConfig, openSergoYaml, single } from './lib/rules.ts';
import { lifecycles, requestHeaders, startHost, timeLifecycles } from './lib/sergo.ts';

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 3;
const modules = args.map((path) => ({ path, bytes: readFileSync(path).length, module: compileModule(readFileSync(path)) }));
const headers = requestHeaders('/api/v0/items');
const CASES = [
  { name: 'RateLimit alone', config: filterConfig(single('RateLimit')) },
  { name: 'all four, 1 resource', config: filterConfig(allFour()) },
];

async function tenThousandRules(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-ab-'));
  try {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, openSergoYaml(10_000));
    return JSON.stringify((await translateFiles([file])).config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function configureMs(module: WebAssembly.Module, config: string): number {
  const h = startHost(module, filterConfig([]), 1);
  const t0 = process.hrtime.bigint();
  const ok = h.host.configure(config);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  h.host.close();
  if (!ok) throw new Error('10,000 rules refused');
  return ms;
}

/** Host calls per lifecycle, after a few lifecycles to settle what is created lazily. */
function hostCalls(module: WebAssembly.Module, config: string): number {
  const h = startHost(module, config, 1, { checkHeaders: false, recordCalls: true });
  lifecycles(h, headers, 8);
  h.host.calls.length = 0;
  lifecycles(h, headers, 8);
  h.host.close();
  return h.host.calls.length / 8;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const big = await tenThousandRules();
const samples = new Map<string, number[]>();
const add = (key: string, v: number) => samples.set(key, [...(samples.get(key) ?? []), v]);
for (let r = 0; r < rounds; r++) {
  for (const m of modules) {
    for (const c of CASES) {
      const h = startHost(m.module, c.config, 1, { checkHeaders: false });
      add(`${m.path}|${c.name}`, timeLifecycles(h, headers, 20_000).cpuNs);
      h.host.close();
    }
    add(`${m.path}|configure`, configureMs(m.module, big));
  }
  process.stderr.write(`round ${r + 1}/${rounds}\n`);
}
const base = modules[0]!.path;
console.log('| module | bytes | ' + CASES.map((c) => `${c.name} ns | host calls`).join(' | ') + ' | on_configure 10,000 ms |');
console.log('|---|---:|' + CASES.map(() => '---:|---:|').join('') + '---:|');
for (const m of modules) {
  const cell = (key: string) => {
    const v = median(samples.get(`${m.path}|${key}`)!);
    return `${Math.round(v).toLocaleString('en')} (${(v / median(samples.get(`${base}|${key}`)!)).toFixed(2)}×)`;
  };
  const calls = (c: (typeof CASES)[number]) => String(hostCalls(m.module, c.config));
  console.log(`| ${m.path} | ${m.bytes.toLocaleString('en')} | ${CASES.map((c) => `${cell(c.name)} | ${calls(c)}`).join(' | ')} | ${cell('configure')} |`);
}
