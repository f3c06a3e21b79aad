// YAML rendering shared by the deployment emitters (envoy, istio, envoyfilter). Deterministic: keys in
// insertion order, no line folding (long regexes and URLs stay on one line), short scalar lists in flow
// style (`[500, 599]`), multi-line strings as literal blocks. Scalars are quoted as YAML 1.1 needs:
// Envoy (yaml-cpp) and kubectl read 1.1, where an unquoted `yes`, `on` or `n` is a boolean.
import { Document, isScalar, visit } from 'yaml';

/** `header` lines are written as `# …` comments above the document. */
export function renderYaml(value: unknown, header: readonly string[] = []): string {
  const doc = new Document(value, { aliasDuplicateObjects: false, version: '1.1' });
  visit(doc, {
    Seq(_, node) {
      if (node.items.length > 0 && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  const comments = header.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  const body = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return comments === '' ? body : `${comments}\n${body}`;
}
