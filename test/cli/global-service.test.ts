// limitMode Global without a rate-limit service (issue 12): `sergo serve` refuses to start (exit 2,
// naming the rules) and `sergo translate --format filter` warns that the rules will fail closed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';
import { faultToleranceRule, rateLimitStrategy, yamlStream } from '../envoy/rules.ts';

const RULES = yamlStream(
  rateLimitStrategy({ name: 'shared', app: 'shop', limitMode: 'Global', threshold: 10, statDurationSeconds: 1 }),
  faultToleranceRule({ name: 'orders', app: 'shop', targets: ['/orders'], strategies: ['shared'] }),
);
const ID = 'default/shop/orders/RateLimitStrategy/shared@/orders';

function rulesFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-global-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, RULES);
  return file;
}

describe('limitMode Global without a rate-limit service', () => {
  it('sergo serve refuses to start, exit 2, naming the rules', async () => {
    const run = await runSergo(['serve', '--rules', rulesFile(), '--upstream', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('limitMode Global needs a rate-limit service: give --rls URL');
    expect(run.stderr).toContain(ID);
  });

  it('sergo translate --format filter warns that the rules fail closed; not when a service is named', async () => {
    const file = rulesFile();
    const bare = await runSergo(['translate', file]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toMatch(/warning: a rule uses limitMode Global and no rate-limit service was given: .*fail closed \(500\).*default\/shop\/orders/);
    const named = await runSergo(['translate', file, '--rls-cluster', 'rls']);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).not.toContain('fail closed');
  });
});
