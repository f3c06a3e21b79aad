// Options shared by the commands that read OpenSergo files.
import { Option } from 'commander';
import { isIntegerIn, LIMITS, OPTION_DEFAULTS, type Range } from '../ir/limits.ts';
import type { FilterOptions } from '../ir/model.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

export function appOption(): Option {
  return new Option('--app <app>', 'the app whose rules to use (required when the files hold several apps)');
}

export function namespaceOption(): Option {
  return new Option('--namespace <namespace>', 'namespace of objects without metadata.namespace').default('default');
}

export interface InputOptions {
  app?: string;
  namespace: string;
}

/** The filter's `options` (docs/filter-config.md) as commander hands them over. */
export interface FilterOptionFlags {
  maxQueuedPerVm?: string;
  casRetries?: string;
  onCasExhausted?: 'block' | 'allow';
  ruleIdHeader?: string;
}

/** `--max-queued-per-vm`, `--cas-retries`, `--on-cas-exhausted`: emitted as `options` when given. */
export function filterOptionFlags(): Option[] {
  const { maxQueuedPerVm: queued, casRetries: retries } = LIMITS;
  return [
    new Option('--max-queued-per-vm <n>', `Throttling: requests paused per worker VM before the rest get the fallback, ${queued.min}..${queued.max} (default: the filter's, ${OPTION_DEFAULTS.maxQueuedPerVm})`),
    new Option('--cas-retries <n>', `shared-data CAS attempts per decision, ${retries.min}..${retries.max} (default: the filter's, ${OPTION_DEFAULTS.casRetries})`),
    new Option('--on-cas-exhausted <decision>', `when every CAS attempt lost the race (default: the filter's, ${OPTION_DEFAULTS.onCasExhausted})`).choices(['block', 'allow']),
    new Option('--rule-id-header <name>', 'a response header naming the refusing rule in every block reply (default: none, replies name no rule)'),
  ];
}

/** The given options, checked against LIMITS; problems go to `errors` as `--flag: …`. */
export function parseFilterOptions(flags: FilterOptionFlags, errors: string[]): FilterOptions {
  const options: FilterOptions = {};
  const int = (flag: string, text: string | undefined, range: Range): number | undefined => {
    if (text === undefined) return undefined;
    const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
    if (isIntegerIn(value, range)) return value;
    errors.push(`${flag}: "${text}" is not an integer in ${range.min}..${range.max}`);
    return undefined;
  };
  const queued = int('--max-queued-per-vm', flags.maxQueuedPerVm, LIMITS.maxQueuedPerVm);
  const retries = int('--cas-retries', flags.casRetries, LIMITS.casRetries);
  if (queued !== undefined) options.maxQueuedPerVm = queued;
  if (retries !== undefined) options.casRetries = retries;
  if (flags.onCasExhausted !== undefined) options.onCasExhausted = flags.onCasExhausted;
  if (flags.ruleIdHeader !== undefined) {
    if (HEADER_NAME.test(flags.ruleIdHeader)) options.ruleIdHeader = flags.ruleIdHeader.toLowerCase();
    else errors.push(`--rule-id-header: "${flags.ruleIdHeader}" is not an HTTP header name`);
  }
  return options;
}
