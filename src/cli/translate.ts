// `sergo translate FILE… [-o FILE]`: print (or write) the filter configuration for one app.
import type { Command } from 'commander';
import { renderFilterConfig } from '../emit/filter.ts';
import { translateFiles } from '../translate.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';
import { appOption, namespaceOption, type InputOptions } from './options.ts';
import { printDiagnostics } from './report.ts';
import { writeFileAtomic } from './write-atomic.ts';

interface TranslateCommandOptions extends InputOptions {
  output?: string;
}

export function registerTranslateCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('translate')
    .description('translate OpenSergo fault-tolerance rules into the filter configuration (JSON)')
    .argument('<files...>', 'YAML or JSON files (several documents per file allowed)')
    .option('-o, --output <file>', 'write the configuration to FILE (atomically) instead of stdout')
    .addOption(appOption())
    .addOption(namespaceOption())
    .action(async (files: string[], options: TranslateCommandOptions) => {
      done(await runTranslate(files, options, io));
    });
}

export async function runTranslate(files: string[], options: TranslateCommandOptions, io: CliIO): Promise<number> {
  const result = await translateFiles(files, { app: options.app, namespace: options.namespace });
  printDiagnostics(io, result.diagnostics);
  if (result.config === undefined) return EXIT_INVALID_INPUT;
  const json = renderFilterConfig(result.config);
  if (options.output === undefined) {
    io.stdout(json);
    return EXIT_OK;
  }
  try {
    await writeFileAtomic(options.output, json);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    io.stderr(`${options.output}: cannot write: ${(err as Error).message}\n`);
    return EXIT_INVALID_INPUT;
  }
  return EXIT_OK;
}
