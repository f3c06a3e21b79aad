// `sergo package --out DIR|FILE.tar [--module build/sergo.wasm] [--tag TAG]`: the module as an OCI
// image layout (src/package/oci.ts) that Istio pulls from oci://, ready for `crane push DIR …` or
// `oras cp --from-oci-layout DIR:TAG …` (FILE.tar also works with oras). Prints the digests on stdout.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { buildWasmImage, isValidTag, isWasmModule, layoutFiles, layoutTar } from '../package/oci.ts';
import { OutputError, writeLayoutDirectory } from '../package/write.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';
import { packageVersion } from '../version.ts';
import { writeFileAtomic } from './write-atomic.ts';
import { SERGO_WASM_PATH } from '../module-path.ts';


export interface PackageCommandOptions {
  out: string;
  /** default: this package's build/sergo.wasm */
  module?: string;
  tag?: string;
}

export function registerPackageCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('package')
    .description('package the Wasm module as an OCI image (layout directory or .tar) for Istio oci:// URLs')
    .addOption(new Option('--out <path>', 'output: a directory (OCI image layout) or FILE.tar (the layout as one tar)').makeOptionMandatory())
    .addOption(new Option('--module <file>', 'the module to package (default: build/sergo.wasm of this package)'))
    .addOption(new Option('--tag <tag>', `image tag recorded in index.json (default: the sergo version, ${packageVersion()})`))
    .action(async (options: PackageCommandOptions) => {
      done(await runPackage(options, io));
    });
}

export async function runPackage(options: PackageCommandOptions, io: CliIO): Promise<number> {
  const tag = options.tag ?? packageVersion();
  if (!isValidTag(tag)) return fail(io, `sergo: --tag: "${tag}" is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9._-], at most 128 characters)`);
  if (options.out.trim() === '') return fail(io, 'sergo: --out: the path is empty');
  const path = options.module ?? SERGO_WASM_PATH;
  let module: Buffer;
  try {
    module = await readFile(path);
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    const hint = options.module === undefined ? ' (build it with `npm run build`, or pass --module)' : '';
    return fail(io, `${path}: cannot read: ${(err as Error).message}${hint}`);
  }
  if (module.byteLength === 0) return fail(io, `${path}: empty file, not a WebAssembly module`);
  if (!isWasmModule(module)) return fail(io, `${path}: not a WebAssembly module (no \\0asm version 1 header)`);

  const image = await buildWasmImage(module, tag);
  const tarOutput = /\.tar$/i.test(options.out);
  try {
    if (tarOutput) await writeFileAtomic(options.out, await layoutTar(image));
    else await writeLayoutDirectory(options.out.replace(/[\\/]+$/, '') || options.out, layoutFiles(image));
  } catch (err) {
    if (err instanceof OutputError) return fail(io, `sergo: --out: ${err.message}`);
    if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    return fail(io, `${options.out}: cannot write: ${(err as Error).message}`);
  }
  io.stdout(`module   ${image.moduleDigest}\nmanifest ${image.manifestDigest}\n`);
  io.stderr(`ok: wrote ${options.out} (OCI image layout${tarOutput ? ' as tar' : ''}, tag ${tag}, ${module.byteLength} byte module)\n`);
  return EXIT_OK;
}

function fail(io: CliIO, message: string): number {
  io.stderr(`${message}\n`);
  return EXIT_INVALID_INPUT;
}
