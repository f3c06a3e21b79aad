// `targetResourceName` as the filter understands it: `/path` or `METHOD:/path`, where a segment
// `{name}` matches one path segment and a trailing `/**` matches any remainder. Anything else (route
// names, lower-case methods, query strings) is rejected so that no rule silently matches nothing.
//
// One more spelling is accepted: Sentinel's gRPC resource name, the full method name without the
// leading slash (`package.Service/Method`, what grpc-java's MethodDescriptor.getFullMethodName()
// gives). A gRPC call's :path is `/package.Service/Method`, so the name is read as that path.

import { LIMITS } from '../ir/limits.ts';

/** The schema's pattern for `resource`. */
const SCHEMA_PATTERN = /^([A-Z]+:)?\/[\x21-\x7e]*$/;
export const MAX_RESOURCE_LENGTH = LIMITS.resource.maxLength;
/** What delimits a tag in the filter's stat names (src/emit/metrics.ts encodeTag). */
const STAT_TAG_MARKERS = [';.;', '=.='] as const;
const TEMPLATE_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_.-]*\}$/;

/** `package.Service/Method`: dotted identifiers (the package is optional), one slash, an identifier. */
const GRPC_FULL_METHOD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\/[A-Za-z_][A-Za-z0-9_]*$/;

/** The resource as the filter matches it: a gRPC full method name gets its leading slash. */
export function normalizeResource(name: string): string {
  return GRPC_FULL_METHOD.test(name) ? `/${name}` : name;
}

/**
 * Why `resource` (normalized) is not a valid filter resource, or undefined when it is. Read by index,
 * without slicing: every target of every rule passes here, and almost all are valid.
 */
export function resourceProblem(resource: string): string | undefined {
  if (resource.length > MAX_RESOURCE_LENGTH) {
    return `is ${resource.length} characters long; at most ${MAX_RESOURCE_LENGTH} allowed`;
  }
  const methodEnd = methodLength(resource);
  if (methodEnd > 0) {
    const method = resource.slice(0, methodEnd);
    if (method !== method.toUpperCase()) return `'${resource}': the HTTP method must be upper-case ('${method.toUpperCase()}${resource.slice(methodEnd)}')`;
  }
  const pathStart = methodEnd > 0 ? methodEnd + 1 : 0;
  if (resource.charCodeAt(pathStart) !== SLASH) {
    return `'${resource}': expected a path '/…' or 'METHOD:/…' (e.g. '/foo', 'GET:/foo/{id}') or a gRPC method 'package.Service/Method'; other resource names are not supported`;
  }
  if (!SCHEMA_PATTERN.test(resource)) {
    return `'${resource}': only printable ASCII without spaces is allowed (percent-encode other characters)`;
  }
  if (resource.includes('?', pathStart) || resource.includes('#', pathStart)) return `'${resource}': the query string and fragment are not part of the resource path`;
  for (const marker of STAT_TAG_MARKERS) {
    if (resource.includes(marker)) {
      return `'${resource}': '${marker}' cannot be part of a resource: the filter's stat names carry the resource as a tag 'sergo_resource=.=<resource>;.;', and Envoy's tag extraction would cut it there`;
    }
  }
  return segmentsProblem(resource, pathStart + 1);
}

const SLASH = 0x2f;

/** The length of a leading `letters:` (`METHOD:`), without the colon; 0 when there is none. */
function methodLength(resource: string): number {
  let i = 0;
  while (i < resource.length && isLetter(resource.charCodeAt(i))) i++;
  return i > 0 && resource.charCodeAt(i) === 0x3a ? i : 0;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The segments of the path from `start` (after its leading slash): `**` last only, templates whole. */
function segmentsProblem(resource: string, start: number): string | undefined {
  for (let from = start; ; ) {
    const slash = resource.indexOf('/', from);
    const to = slash === -1 ? resource.length : slash;
    const stars = resource.indexOf('**', from);
    if (stars !== -1 && stars + 2 <= to && !(to - from === 2 && slash === -1)) {
      return `'${resource}': '**' is allowed only as the last segment ('/…/**')`;
    }
    if (hasBrace(resource, from, to) && !TEMPLATE_SEGMENT.test(resource.slice(from, to))) {
      return `'${resource}': a template must be a whole segment '{name}' (e.g. '/foo/{id}')`;
    }
    if (slash === -1) return undefined;
    from = slash + 1;
  }
}

function hasBrace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x7b || c === 0x7d) return true;
  }
  return false;
}
