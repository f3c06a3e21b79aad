// Plain scalars as the `yaml` library's core schema types them (node_modules/yaml/dist/schema/core):
// the same regular expressions, shared by both fast parsers (fast-yaml.ts, block-yaml.ts).

export interface CoreScalar {
  name: string;
  /** Whether the plain scalar `s` is of this type. */
  resolve(s: string): boolean;
  construct(s: string): unknown;
}

const DIGITS = '0123456789';
export const CORE_SCALARS: readonly CoreScalar[] = [
  scalarType('null', '~Nn', /^(?:~|[Nn]ull|NULL)?$/, () => null),
  scalarType('bool', 'TtFf', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
  scalarType('int-oct', '0', /^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)),
  scalarType('int', `-+${DIGITS}`, /^[-+]?[0-9]+$/, (s) => parseInt(s, 10)),
  scalarType('int-hex', '0', /^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)),
  scalarType('float-nan', '-+.', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) =>
    s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
  scalarType('float-exp', `-+.${DIGITS}`, /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)),
  scalarType('float', `-+.${DIGITS}`, /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)),
];

/**
 * `first` holds every character `test` can match first: most scalars are words, and are let through
 * by one look instead of eight regular expressions.
 */
function scalarType(name: string, first: string, test: RegExp, construct: (s: string) => unknown): CoreScalar {
  const resolve = (s: string) => (typeof s !== 'string' || s === '' || first.includes(s[0]!)) && test.test(s);
  return { name, resolve, construct };
}

/** Every character some type can match first. */
const ANY_FIRST = `~NnTtFf-+.${DIGITS}`;

/** The value of the plain scalar `s`: the first type that resolves it, else the string itself. */
export function plainValue(s: string): unknown {
  if (s !== '' && !ANY_FIRST.includes(s[0]!)) return s;
  for (const type of CORE_SCALARS) if (type.resolve(s)) return type.construct(s);
  return s;
}
