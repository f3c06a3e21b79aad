// `sergo validate FILE…`: check the files (every app, or only --app's rules) without output.
import type { Command } from 'commander';
import { validateFiles } from '../translate.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';
import { appOption, namespaceOption, type InputOptions } from './options.ts';
import { describeRules, printDiagnostics } from './report.ts';

export function registerValidateCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('validate')
    .description('check OpenSergo fault-tolerance rules without writing a configuration')
    .argument('<files...>', 'YAML or JSON files (several documents per file allowed); a directory: its *.yaml, *.yml, *.json; -: standard input')
    .option('-R, --recursive', 'a directory given includes its subdirectories')
    .addOption(appOption())
    .addOption(namespaceOption())
    .action(async (files: string[], options: InputOptions & { recursive?: boolean }) => {
      done(await runValidate(files, options, io));
    });
}

export async function runValidate(files: string[], options: InputOptions & { recursive?: boolean }, io: CliIO): Promise<number> {
  const result = await validateFiles(files, { app: options.app, namespace: options.namespace, recursive: options.recursive === true });
  printDiagnostics(io, result.diagnostics);
  if (result.model === undefined) return EXIT_INVALID_INPUT;
  const apps = options.app !== undefined ? [options.app] : result.apps;
  const routers = result.model.traffic?.routers.length ?? 0;
  const routes = routers === 0 ? '' : `; ${routers} TrafficRouter${routers === 1 ? '' : 's'}`;
  const laneCount = result.model.lanes?.length ?? 0;
  const lanes = laneCount === 0 ? '' : `; ${laneCount} TrafficLane${laneCount === 1 ? '' : 's'}`;
  io.stderr(`ok: ${describeRules(result.model.rules.length, apps, result.files)}${routes}${lanes}\n`);
  return EXIT_OK;
}
