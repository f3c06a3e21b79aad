// Options shared by the commands that read OpenSergo files.
import { Option } from 'commander';

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
