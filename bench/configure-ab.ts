// A/B of on_configure alone, module builds side by side (not part of `npm run bench`):
//   npx tsx bench/configure-ab.ts [rounds] a.wasm b.wasm …
// CPU ms per configure of 10,000 rules (the configuration bench/ab.ts makes), and of the same with
// an invalid last rule — refused after every rule was decoded, before anything is built: the
// decoder's share. Rounds interleaved across modules; medians, the first module the baseline.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModule } from '../src/host/index.ts';
import { translateFiles } from '../src/translate.ts';
import { filterConfig, openSergoYaml } from './lib/rules.ts';
import { startHost } from './lib/sergo.ts';

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 7;
const modules = args.map((path) => ({ path, module: compileModule(readFileSync(path)) }));

const dir = mkdtempSync(join(tmpdir(), 'sergo-configure-ab-'));
writeFileSync(join(dir, 'rules.yaml'), openSergoYaml(10_000));
const full = JSON.stringify((await translateFiles([join(dir, 'rules.yaml')])).config);
rmSync(dir, { recursive: true, force: true });
const invalidLast = full.replace(/\]\}$/, ',{"id":"z","resource":"/z","strategy":{"kind":"RateLimit","threshold":-1,"windowMs":1}}]}');
const CASES = [['whole configure', full, true], ['decoding only', invalidLast, false]] as const;

function configureCpuMs(module: WebAssembly.Module, config: string, accepted: boolean): number {
  const h = startHost(module, filterConfig([]), 1);
  const before = process.cpuUsage();
  if (h.host.configure(config) !== accepted) throw new Error(`expected the configuration to be ${accepted ? 'accepted' : 'refused'}`);
  const cpu = process.cpuUsage(before);
  h.host.close();
  return (cpu.user + cpu.system) / 1000;
}

const samples = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const m of modules) for (const [name, config, accepted] of CASES) {
    const key = `${m.path}|${name}`;
    samples.set(key, [...(samples.get(key) ?? []), configureCpuMs(m.module, config, accepted)]);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log('| module | ' + CASES.map(([name]) => `${name} ms`).join(' | ') + ' |');
console.log('|---|' + CASES.map(() => '---:').join('|') + '|');
for (const m of modules) {
  const cell = (name: string) => {
    const v = median(samples.get(`${m.path}|${name}`)!);
    return `${v.toFixed(0)} (${(v / median(samples.get(`${modules[0].path}|${name}`)!)).toFixed(2)}×)`;
  };
  console.log(`| ${m.path} | ${CASES.map(([name]) => cell(name)).join(' | ')} |`);
}
