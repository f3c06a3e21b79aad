// The `sergo` CLI: wires the subcommands (one module each) and turns outcomes into exit codes.
// Later commands (serve, package, rls) register themselves the same way.
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../version.ts';
import { EXIT_INTERNAL_ERROR, EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import { decorateHelp } from './help.ts';
import { processIO, type CliIO } from './io.ts';

type Register = (program: Command, io: CliIO, done: (code: number) => void) => void;

/**
 * The subcommands, in the order of the help. Each is loaded only when it is needed: the controller
 * and the rate-limit service bring the Kubernetes client, gRPC and Redis, about a second of start-up
 * that `sergo translate` should not pay.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  translate: async () => (await import('./translate.ts')).registerTranslateCommand,
  validate: async () => (await import('./validate.ts')).registerValidateCommand,
  package: async () => (await import('./package.ts')).registerPackageCommand,
  rls: async () => (await import('./rls.ts')).registerRlsCommand,
  serve: async () => (await import('./serve.ts')).registerServeCommand,
  xds: async () => (await import('./xds.ts')).registerXdsCommand,
  controller: async () => (await import('./controller.ts')).registerControllerCommand,
};

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
  // The command named on the line, or all of them (help, an unknown command, `sergo help …`).
  const named = argv.find((arg) => !arg.startsWith('-'));
  const wanted = named === 'version' ? [] : named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const name of wanted) (await COMMANDS[name]!())(program, io, done);
  for (const command of program.commands) decorateHelp(command);
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
