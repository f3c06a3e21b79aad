// Files → the IR model: parse every document, load each object, index them, resolve the rules.
// Every problem is reported to `diagnostics`; the model holds only rules that are entirely valid.
import type { Diagnostics } from '../diagnostics.ts';
import { DEFAULT_NAMESPACE } from '../ir/deployment.ts';
import type { Model } from '../ir/model.ts';
import { Cursor } from './cursor.ts';
import { ObjectIndex } from './object-index.ts';
import { resolveLanes } from './lanes.ts';
import { loadObject, nameOnly, type LoadedObject } from './objects.ts';
import { Reporter } from './reporter.ts';
import { resolveRules } from './resolve.ts';
import { parseSource } from './source.ts';
import { trafficOf } from './traffic/load.ts';

export interface SourceFile {
  /** As shown in messages (usually the path the user gave). */
  path: string;
  text: string;
}

export interface LoadOptions {
  /** Namespace of objects without `metadata.namespace` (kubectl's rule). Default `default`. */
  namespace?: string;
  /** An empty file (or stdin) is a warning instead of an error: the caller means an empty configuration. */
  allowEmpty?: boolean;
}


export function loadModel(files: readonly SourceFile[], options: LoadOptions, diagnostics: Diagnostics): Model {
  const defaultNamespace = options.namespace ?? DEFAULT_NAMESPACE;
  const index = new ObjectIndex();
  const objects: LoadedObject[] = [];
  for (const file of files) {
    const documents = parseSource(file.path, file.text, diagnostics);
    if (documents.length === 0) reportEmpty(file, diagnostics, options.allowEmpty === true);
    for (const document of documents) {
      if (document.broken) {
        const object = brokenObject(Cursor.root(document), diagnostics, defaultNamespace);
        if (object !== undefined) index.add(object);
        continue;
      }
      for (const root of objectRoots(Cursor.root(document), diagnostics)) {
        const object = loadObject(root, diagnostics, defaultNamespace);
        if (object !== undefined && index.add(object)) objects.push(object);
      }
    }
  }
  const traffic = trafficOf(objects);
  return { rules: resolveRules(objects, { index, defaultNamespace }), lanes: resolveLanes(objects), ...(traffic === undefined ? {} : { traffic }) };
}

/**
 * A file without any object (empty, only comments or `---`): most likely truncated or the wrong file,
 * and it would drop every rule it used to hold (issue 12). Invalid YAML is reported already.
 */
function reportEmpty(file: SourceFile, diagnostics: Diagnostics, allowed: boolean): void {
  if (diagnostics.items.some((d) => d.file === file.path && d.severity === 'error')) return;
  const message = 'holds no object: an empty input drops every rule';
  diagnostics.add({ severity: allowed ? 'warning' : 'error', file: file.path, message: allowed ? message : `${message} (--allow-empty if that is meant)` });
}

/** The object a document with invalid YAML (reported) was, by name: references to it add no error. */
function brokenObject(root: Cursor, diagnostics: Diagnostics, defaultNamespace: string): LoadedObject | undefined {
  const kind = root.get('kind').value;
  if (typeof kind !== 'string') return undefined;
  return nameOnly(root, kind, new Reporter(diagnostics, kind), defaultNamespace, 'broken');
}

/** The objects of one document: itself, or the items of a `v1 List` (what `kubectl get -o yaml` prints). */
function objectRoots(root: Cursor, diagnostics: Diagnostics): Cursor[] {
  if (!root.present) return []; // an empty document, e.g. after a trailing `---`
  if (!root.isMap) {
    diagnostics.error(root.pos, undefined, undefined, `a document must be a Kubernetes object (a mapping), not ${root.describe()}`);
    return [];
  }
  if (root.get('apiVersion').value === 'v1' && root.get('kind').value === 'List') {
    return root.get('items').items().flatMap((item) => objectRoots(item.asRoot(), diagnostics));
  }
  return [root];
}
