// What every command's --help adds, kubectl-style: required options marked, and examples.
import type { Command } from 'commander';

const EXAMPLES: Record<string, string[]> = {
  translate: [
    'sergo translate rules.yaml                                  # the filter configuration (JSON)',
    'sergo translate rules/ --app shop -o filter.json            # every *.yaml, *.yml, *.json in rules/ (-R: and below)',
    'kubectl get faulttolerancerules,ratelimitstrategies -o yaml | sergo translate -',
    'sergo translate rules.yaml --format envoy --upstream http://127.0.0.1:8080 -o bootstrap.yaml',
    'sergo translate rules.yaml --format istio --url oci://ghcr.io/you/sergo:0.1.0 --sha256 <manifest digest>',
  ],
  validate: ['sergo validate rules.yaml', 'sergo validate rules/ --app shop', 'cat rules.yaml | sergo validate -'],
  package: ['sergo package --out sergo-oci            # then: crane push sergo-oci ghcr.io/you/sergo:0.1.0', 'sergo package --out sergo.tar --tag dev'],
  rls: ['sergo rls --redis redis://127.0.0.1:6379', 'sergo rls --redis redis://redis:6379/0 --listen 0.0.0.0:8080 --grpc 0.0.0.0:8081 --domain sergo'],
  serve: [
    'sergo serve --rules rules.yaml --upstream http://127.0.0.1:3000',
    'sergo serve --rules rules/ --upstream http://127.0.0.1:3000 --listen 127.0.0.1:10000 --rls http://127.0.0.1:8080   # sergo rls on 8080',
  ],
  xds: ['sergo xds --rules rules/', 'sergo xds --rules rules/ --listen 0.0.0.0:18000   # Envoys: sergo translate --format envoy --xds HOST:18000'],
  controller: ['sergo controller --kubeconfig ~/.kube/config --url oci://ghcr.io/you/sergo:0.1.0', 'sergo controller crds | kubectl apply -f -'],
};

/** Marks each mandatory option `(required)` and appends the command's examples to its help. */
export function decorateHelp(command: Command): void {
  for (const option of command.options) {
    if (option.mandatory && !/\(required\)/.test(option.description)) option.description = `${option.description} (required)`;
  }
  const examples = EXAMPLES[command.name()];
  if (examples !== undefined) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
}

export const EXAMPLE_COMMANDS = Object.keys(EXAMPLES);
