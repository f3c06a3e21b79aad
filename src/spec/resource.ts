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

/** Why `resource` (normalized) is not a valid filter resource, or undefined when it is. */
export function resourceProblem(resource: string): string | undefined {
  if (resource.length > MAX_RESOURCE_LENGTH) {
    return `is ${resource.length} characters long; at most ${MAX_RESOURCE_LENGTH} allowed`;
  }
  const method = /^([A-Za-z]+):/.exec(resource);
  if (method !== null && method[1] !== method[1]!.toUpperCase()) {
    return `'${resource}': the HTTP method must be upper-case ('${method[1]!.toUpperCase()}${resource.slice(method[1]!.length)}')`;
  }
  const path = method === null ? resource : resource.slice(method[0].length);
  if (!path.startsWith('/')) {
    return `'${resource}': expected a path '/…' or 'METHOD:/…' (e.g. '/foo', 'GET:/foo/{id}') or a gRPC method 'package.Service/Method'; other resource names are not supported`;
  }
  if (!SCHEMA_PATTERN.test(resource)) {
    return `'${resource}': only printable ASCII without spaces is allowed (percent-encode other characters)`;
  }
  if (/[?#]/.test(path)) return `'${resource}': the query string and fragment are not part of the resource path`;
  const marker = STAT_TAG_MARKERS.find((m) => resource.includes(m));
  if (marker !== undefined) {
    return `'${resource}': '${marker}' cannot be part of a resource: the filter's stat names carry the resource as a tag 'sergo_resource=.=<resource>;.;', and Envoy's tag extraction would cut it there`;
  }
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment.includes('**') && !(segment === '**' && i === segments.length - 1)) {
      return `'${resource}': '**' is allowed only as the last segment ('/…/**')`;
    }
    if (/[{}]/.test(segment) && !TEMPLATE_SEGMENT.test(segment)) {
      return `'${resource}': a template must be a whole segment '{name}' (e.g. '/foo/{id}')`;
    }
  }
  return undefined;
}
