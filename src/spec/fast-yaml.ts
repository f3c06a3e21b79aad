// The fast path of parsing: plain values without positions. Plain block YAML is read by block-yaml.ts;
// other files by js-yaml, about ten times faster than the `yaml` library on large files (10,000
// rules: ~80 ms instead of ~800 ms). Scalars are typed with the `yaml` library's core schema (the
// same regular expressions, core-scalars.ts), so values are the same. Anything the two could read
// differently is left to the `yaml` library: a file that js-yaml refuses or warns about, and any file
// with directives, tags, anchors/aliases or explicit keys (detected generously: a false match only
// costs speed).
import jsyaml from 'js-yaml';
import { CORE_SCALARS } from './core-scalars.ts';
import { blockParse } from './block-yaml.ts';

// Private tags: an explicit `!!int` is unknown to this schema, so js-yaml refuses the file and the
// `yaml` library reads it.
const TYPES = CORE_SCALARS.map(({ name, resolve, construct }) =>
  new jsyaml.Type(`tag:sergo-wasm.fast-yaml:${name}`, { kind: 'scalar', resolve, construct }));

const SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: TYPES });

/** `%` directives, `!` tags, `&`/`*` anchors and aliases, `?` explicit keys (also inside strings). */
const LEFT_TO_YAML_LIBRARY = /^%|(?:^|[\s[\]{},])(?:[!&*][^\s[\]{},]|\?(?:\s|$))/m;
/** What LEFT_TO_YAML_LIBRARY needs (a line-start `%` or one of `!&*?`): most files have none, and it is found faster. */
const MAY_BE_LEFT = /^%|[!&*?]/m;

/**
 * The value of every document with content, or undefined when the `yaml` library must read the file.
 * Plain block YAML is read by block-yaml.ts, the rest by js-yaml.
 */
export function fastParse(text: string): unknown[] | undefined {
  if (MAY_BE_LEFT.test(text) && LEFT_TO_YAML_LIBRARY.test(text)) return undefined;
  return blockParse(text) ?? jsyamlParse(text)?.filter((v) => v !== null && v !== undefined);
}

/** Every document's value (empty ones included, as null) as js-yaml reads it; undefined if it refuses or warns. */
function jsyamlParse(text: string): unknown[] | undefined {
  let warned = false;
  try {
    const documents = jsyaml.loadAll(text, undefined, { schema: SCHEMA, onWarning: () => (warned = true) });
    return warned ? undefined : documents;
  } catch {
    return undefined;
  }
}
