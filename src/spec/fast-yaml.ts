// The fast path of parsing: js-yaml, about ten times faster than the `yaml` library on large files
// (10,000 rules: ~80 ms instead of ~800 ms), reads plain JavaScript values without positions. Its
// scalars are typed with the `yaml` library's core schema (the same regular expressions), so values
// are the same. Anything the two could read differently is left to the `yaml` library: a file that
// js-yaml refuses or warns about, and any file with directives, tags, anchors/aliases or explicit
// keys (detected generously: a false match only costs speed).
import jsyaml from 'js-yaml';

/** Plain scalars as the `yaml` library's core schema types them (node_modules/yaml/dist/schema/core). */
const CORE_SCALARS = [
  scalarType('null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
  scalarType('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
  scalarType('int-oct', /^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)),
  scalarType('int', /^[-+]?[0-9]+$/, (s) => parseInt(s, 10)),
  scalarType('int-hex', /^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)),
  scalarType('float-nan', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) =>
    s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
  scalarType('float-exp', /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)),
  scalarType('float', /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)),
];

// Private tags: an explicit `!!int` is unknown to this schema, so js-yaml refuses the file and the
// `yaml` library reads it.
function scalarType(name: string, test: RegExp, construct: (s: string) => unknown): jsyaml.Type {
  return new jsyaml.Type(`tag:sergo-wasm.fast-yaml:${name}`, { kind: 'scalar', resolve: (s: string) => test.test(s), construct });
}

const SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: CORE_SCALARS });

/** `%` directives, `!` tags, `&`/`*` anchors and aliases, `?` explicit keys (also inside strings). */
const LEFT_TO_YAML_LIBRARY = /^%|(?:^|[\s[\]{},])(?:[!&*][^\s[\]{},]|\?(?:\s|$))/m;

/** Every document's value (empty ones included, as null), or undefined when the `yaml` library must read the file. */
export function fastParse(text: string): unknown[] | undefined {
  if (LEFT_TO_YAML_LIBRARY.test(text)) return undefined;
  let warned = false;
  try {
    const documents = jsyaml.loadAll(text, undefined, { schema: SCHEMA, onWarning: () => (warned = true) });
    return warned ? undefined : documents;
  } catch {
    return undefined;
  }
}
