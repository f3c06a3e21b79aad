// What traffic lanes cost per request (docs/traffic.md), through src/host on V8: ns per request
// lifecycle and host calls per request, as ratios to the same module without lanes. Standalone:
//   npx tsx bench/lanes.ts [requests per round, default 50000]
// Interleaved rounds, medians with min–max (bench/README.md, "How it measures"). Not a test.
import { lifecycles, requestHeaders, sergoModule, startHost, timeLifecycles } from './lib/sergo.ts';
import { summarize } from './lib/stats.ts';

const KEY = 'x-sergo-lane';
const lanes = (colour: unknown[]) => ({ header: KEY, baggageKey: KEY, names: ['gray', 'blue', 'green'], colour });
const RULES = [
  { lane: 'gray', when: [{ path: { prefix: '/shop' }, headers: [['x-user-id', { exact: '12345' }]] }, { query: [['gray', { present: true }]] }] },
  { lane: 'blue', when: [{ method: { exact: 'POST' }, path: { exact: '/blue' } }] },
];
const BAGGAGE = 'userId=alice,tenant=t-42,session=9f1c;ttl=300,x-sergo-lane=blue';
const base = requestHeaders('/api/v0/items?q=1');

const CASES: Array<{ name: string; config: object; headers: [string, string][] }> = [
  { name: 'no lanes (baseline)', config: { version: 1, rules: [] }, headers: base },
  { name: 'lanes, outbound (no colouring), request in no lane', config: { version: 1, rules: [], lanes: lanes([]) }, headers: base },
  { name: 'lanes, 2 colouring rules, request in no lane', config: { version: 1, rules: [], lanes: lanes(RULES) }, headers: base },
  { name: 'lanes, coloured (header + baggage set)', config: { version: 1, rules: [], lanes: lanes(RULES) },
    headers: [...requestHeaders('/shop/cart'), ['x-user-id', '12345']] },
  { name: 'lanes, outbound, carried from 4-member baggage', config: { version: 1, rules: [], lanes: lanes([]) },
    headers: [...base, ['baggage', BAGGAGE]] },
  { name: 'lanes, outbound, header and baggage agree (next hop inbound)', config: { version: 1, rules: [], lanes: lanes([]) },
    headers: [...base, [KEY, 'blue'], ['baggage', BAGGAGE]] },
];

const requests = Number(process.argv[2] ?? 50_000);
const rounds = 5;
const hosts = CASES.map((c) => startHost(sergoModule(), JSON.stringify(c.config), 1, { checkHeaders: false }));
const cpu: number[][] = CASES.map(() => []);
for (let r = 0; r < rounds; r++) {
  CASES.forEach((c, i) => cpu[i]!.push(timeLifecycles(hosts[i]!, c.headers, requests).cpuNs));
}
const calls = CASES.map((c) => {
  const h = startHost(sergoModule(), JSON.stringify(c.config), 1, { checkHeaders: false, recordCalls: true });
  lifecycles(h, c.headers, 8);
  h.host.calls.length = 0;
  lifecycles(h, c.headers, 8);
  h.host.close();
  return h.host.calls.length / 8;
});
for (const h of hosts) h.host.close();

const floor = summarize(cpu[0]!).median;
console.log(`| case | CPU ns / request (median, min–max of ${rounds}×${requests}) | ratio | host calls / request |`);
console.log('|---|---|---|---|');
CASES.forEach((c, i) => {
  const s = summarize(cpu[i]!);
  console.log(`| ${c.name} | ${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)}) | ${(s.median / floor).toFixed(2)} | ${calls[i]} |`);
});
