// The `sergo` CLI: wires the subcommands (one module each) and turns outcomes into exit codes.
// Later commands (serve, package, rls) register themselves the same way.
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../version.ts';
import { EXIT_INTERNAL_ERROR, EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import { processIO, type CliIO } from './io.ts';
import { registerControllerCommand } from './controller.ts';
import { registerRlsCommand } from './rls.ts';
import { registerServeCommand } from './serve.ts';
import { registerPackageCommand } from './package.ts';
import { registerTranslateCommand } from './translate.ts';
import { registerValidateCommand } from './validate.ts';
import { registerXdsCommand } from './xds.ts';

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  let exitCode = EXIT_OK;
  const done = (code: number) => {
    exitCode = code;
  };
  const program = new Command('sergo')
    .description('OpenSergo fault-tolerance rules for the sergo-wasm Envoy filter')
    .version(packageVersion())
    .option('--debug', 'print the stack trace of internal errors')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerTranslateCommand(program, io, done);
  registerValidateCommand(program, io, done);
  registerPackageCommand(program, io, done);
  registerRlsCommand(program, io, done);
  registerServeCommand(program, io, done);
  registerXdsCommand(program, io, done);
  registerControllerCommand(program, io, done);
  program.command('version').description('print the version of sergo').action(() => io.stdout(`${packageVersion()}\n`));
  // Bare `sergo` is a request for help, not a usage error (kubectl, istioctl).
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return EXIT_OK;
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit 0; usage errors (already printed by commander) are invalid input.
      return err.exitCode === 0 ? EXIT_OK : EXIT_INVALID_INPUT;
    }
    reportInternalError(err, argv.includes('--debug'), io);
    return EXIT_INTERNAL_ERROR;
  }
}

function reportInternalError(err: unknown, debug: boolean, io: CliIO): void {
  const message = err instanceof Error ? err.message : String(err);
  if (debug && err instanceof Error && err.stack !== undefined) io.stderr(`sergo: internal error: ${err.stack}\n`);
  else io.stderr(`sergo: internal error: ${message} (run with --debug for the stack trace)\n`);
}
