// `sergo translate FILE… [--format filter|envoy|istio|envoyfilter] [--rls URL …] [-o FILE]`: print (or
// write) the configuration for one app — the filter JSON, or a deployment manifest around it. The
// flags are parsed first (src/cli/formats.ts), the files translated into the deployment model, and
// the target rendered from it (src/emit/targets.ts); the --rls… flags describe the rate-limit service
// of limitMode Global rules.
import type { Command } from 'commander';
import { acceptsGlobalToLocal, renderTarget } from '../emit/targets.ts';
import { usesRateLimitService } from '../ir/deployment.ts';
import type { Deployment } from '../ir/model.ts';
import { Diagnostics } from '../diagnostics.ts';
import { readEndpointsFile, translateFiles } from '../translate.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import { addFormatOptions, planFormat, type FormatFlags } from './formats.ts';
import type { CliIO } from './io.ts';
import { appOption, filterOptionFlags, namespaceOption, parseFilterOptions, type FilterOptionFlags, type InputOptions } from './options.ts';
import { printDiagnostics } from './report.ts';
import { writeFileAtomic } from './write-atomic.ts';

export interface TranslateCommandOptions extends InputOptions, Partial<FormatFlags>, FilterOptionFlags {
  output?: string;
  allowEmpty?: boolean;
  recursive?: boolean;
  outbound?: boolean;
}

export function registerTranslateCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('translate')
    .description('translate OpenSergo fault-tolerance rules into the filter configuration (JSON) or a deployment manifest (YAML)')
    .argument('<files...>', 'YAML or JSON files (several documents per file allowed); a directory: its *.yaml, *.yml, *.json; -: standard input')
    .option('-o, --output <file>', 'write the output to FILE (atomically) instead of stdout')
    .option('-R, --recursive', 'a directory given includes its subdirectories')
    .option('--allow-empty', 'accept an empty input and emit a configuration without rules instead of failing (exit 2) when the input yields none')
    .option('--outbound', 'for a listener of the app\'s outbound calls: TrafficLanes are carried from baggage to the lane header, not coloured (docs/traffic.md)')
    .addOption(appOption())
    .addOption(namespaceOption());
  for (const option of filterOptionFlags()) command.addOption(option);
  addFormatOptions(command).action(async (files: string[], options: TranslateCommandOptions) => {
    done(await runTranslate(files, options, io));
  });
}

export async function runTranslate(files: string[], options: TranslateCommandOptions, io: CliIO): Promise<number> {
  // Flags first: a bad flag is reported before (and without) reading any file.
  const plan = planFormat({ ...options, format: options.format ?? 'filter' });
  const optionErrors: string[] = [];
  const filterOptions = parseFilterOptions(options, optionErrors);
  if (!plan.ok || optionErrors.length > 0) return fail(io, [...(plan.ok ? [] : plan.errors), ...optionErrors]);
  const result = await translateFiles(files, {
    app: options.app,
    namespace: options.namespace,
    rateLimitService: plan.value.rls.service,
    options: filterOptions,
    // With --xds the bootstrap carries no rules (sergo xds serves them, dividing GlobalToLocal budgets).
    allowGlobalToLocal: acceptsGlobalToLocal(plan.value),
    outbound: options.outbound === true,
    allowEmpty: options.allowEmpty === true,
    recursive: options.recursive === true,
  });
  printDiagnostics(io, result.diagnostics);
  if (result.deployment === undefined) return EXIT_INVALID_INPUT;
  if (plan.value.format === 'envoy' && options.endpoints !== undefined) {
    const diagnostics = new Diagnostics();
    const endpoints = await readEndpointsFile(options.endpoints, options.namespace, diagnostics);
    printDiagnostics(io, diagnostics.items);
    if (endpoints === undefined) return EXIT_INVALID_INPUT;
    plan.value.options.endpoints = endpoints;
  }
  if (plan.value.rls.given.length > 0 && !usesRateLimitService(result.deployment)) {
    io.stderr(`sergo: warning: ${plan.value.rls.given.join(', ')} ignored: no rule has limitMode Global\n`);
  }
  const rendered = renderTarget(plan.value, result.deployment);
  if (!rendered.ok) return fail(io, rendered.errors);
  const routes = plan.value.format === 'envoy' || plan.value.format === 'istio' ? result.deployment.traffic : undefined;
  if (plan.value.format === 'filter') warnRoutesLeftOut(io, result.deployment);
  if (plan.value.format === 'istio') warnIstioLanes(io, result.deployment);
  // An empty configuration drops all protection: only on purpose (issue 12).
  if (result.deployment.rules.length === 0 && result.deployment.lanes === undefined && routes === undefined && options.allowEmpty !== true) {
    return fail(io, [`the input yields no rule${options.app !== undefined ? ` for app ${options.app}` : ''}: nothing would be enforced (--allow-empty to emit it anyway)`]);
  }
  if (plan.value.format === 'filter' && plan.value.rls.given.length === 0) warnUnservedGlobal(io, rendered.value);
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

/** The filter JSON alone defines no rate-limit service: its Global rules fail closed until the
 *  cluster they name answers (issue 12: an outage must not go unnoticed). */
function warnUnservedGlobal(io: CliIO, json: string): void {
  const config = JSON.parse(json) as { rules: { id: string; strategy: { mode?: string } }[]; rateLimitService?: { cluster: string } };
  const global = config.rules.filter((r) => r.strategy.mode === 'Global').map((r) => r.id);
  if (global.length === 0) return;
  io.stderr(`sergo: warning: ${global.length === 1 ? 'a rule uses' : `${global.length} rules use`} limitMode Global and no rate-limit ` +
    `service was given: unless Envoy's cluster "${config.rateLimitService?.cluster}" answers, they fail closed (500) on every request: ${global.join(', ')}\n`);
}

/** The filter JSON holds the filter's rules only: routes are Envoy's (--format envoy) or Istio's. */
function warnRoutesLeftOut(io: CliIO, deployment: Deployment): void {
  const routers = deployment.traffic?.routers ?? [];
  if (routers.length === 0) return;
  io.stderr(`sergo: warning: --format filter leaves out the TrafficRouters (${routers.map((r) => `${r.origin.namespace}/${r.origin.name}`).join(', ')}): ` +
    'routes are not filter rules; translate them with --format envoy --endpoints FILE or --format istio\n');
}

/** Istio routes lanes only in the routers' VirtualServices, and cannot fall back to the base. */
function warnIstioLanes(io: CliIO, deployment: Deployment): void {
  const lanes = deployment.lanes;
  if (lanes === undefined) return;
  const namespace = lanes.lanes[0]!.origin.namespace;
  const routed = (deployment.traffic?.routers ?? []).filter((r) => r.origin.namespace === namespace).flatMap((r) => r.hosts);
  const where = routed.length === 0 ? `no TrafficRouter in namespace ${namespace}, so no host routes lanes` : `hosts ${routed.join(', ')} route lanes (a VirtualService per TrafficRouter)`;
  io.stderr(`sergo: warning: lanes in Istio: ${where}; a lane with no instance of a host gets no healthy upstream (503) there: ` +
    'Istio cannot fall back to the base as --format envoy --endpoints does (docs/traffic.md)\n');
}
