// `sergo translate FILE… [--format filter|envoy|istio|envoyfilter] [--rls URL …] [-o FILE]`: print (or
// write) the configuration for one app — the filter JSON, or a deployment manifest around it
// (src/cli/formats.ts); the --rls… flags describe the rate-limit service of limitMode Global rules.
import type { Command } from 'commander';
import { hasGlobalRules } from '../emit/filter.ts';
import { translateFiles } from '../translate.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import { addFormatOptions, planFormat, renderFormat, type FormatFlags } from './formats.ts';
import type { CliIO } from './io.ts';
import { appOption, namespaceOption, type InputOptions } from './options.ts';
import { printDiagnostics } from './report.ts';
import { writeFileAtomic } from './write-atomic.ts';

export interface TranslateCommandOptions extends InputOptions, Partial<FormatFlags> {
  output?: string;
}

export function registerTranslateCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('translate')
    .description('translate OpenSergo fault-tolerance rules into the filter configuration (JSON) or a deployment manifest (YAML)')
    .argument('<files...>', 'YAML or JSON files (several documents per file allowed)')
    .option('-o, --output <file>', 'write the output to FILE (atomically) instead of stdout')
    .addOption(appOption())
    .addOption(namespaceOption());
  addFormatOptions(command).action(async (files: string[], options: TranslateCommandOptions) => {
    done(await runTranslate(files, options, io));
  });
}

export async function runTranslate(files: string[], options: TranslateCommandOptions, io: CliIO): Promise<number> {
  // Flags first: a bad flag is reported before (and without) reading any file.
  const plan = planFormat({ ...options, format: options.format ?? 'filter' });
  if (!plan.ok) return fail(io, plan.errors);
  // With --xds the bootstrap carries no rules (sergo xds serves them, dividing GlobalToLocal budgets).
  const allowGlobalToLocal = plan.value.format === 'envoy' && plan.value.xdsServer !== undefined;
  const result = await translateFiles(files, { app: options.app, namespace: options.namespace, rateLimitService: plan.value.rls.service, allowGlobalToLocal });
  printDiagnostics(io, result.diagnostics);
  if (result.config === undefined) return EXIT_INVALID_INPUT;
  if (plan.value.rls.given.length > 0 && !hasGlobalRules(result.config)) {
    io.stderr(`sergo: warning: ${plan.value.rls.given.join(', ')} ignored: no rule has limitMode Global\n`);
  }
  const rendered = renderFormat(plan.value, { config: result.config, app: result.app, namespace: options.namespace });
  if (!rendered.ok) return fail(io, rendered.errors);
  if (options.output === undefined) {
    io.stdout(rendered.value);
    return EXIT_OK;
  }
  try {
    await writeFileAtomic(options.output, rendered.value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    io.stderr(`${options.output}: cannot write: ${(err as Error).message}\n`);
    return EXIT_INVALID_INPUT;
  }
  return EXIT_OK;
}

function fail(io: CliIO, errors: readonly string[]): number {
  for (const message of errors) io.stderr(`sergo: ${message}\n`);
  return EXIT_INVALID_INPUT;
}
