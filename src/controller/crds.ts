// The CustomResourceDefinitions of the OpenSergo kinds sergo-wasm reads (deploy/crds.yaml is this,
// rendered: `sergo controller crds`). Group, version, kinds, plurals and fields are OpenSergo's
// (opensergo-control-plane's CRDs and the specification's documents), so existing objects apply
// unchanged; HttpRequestFallbackAction, which has no upstream CRD, follows the specification.
//
// The schemas hold what the translator checks of each field on its own — types, enums, patterns,
// ranges (from the translator's own constants) — and its checks across the fields of one object as
// CEL rules, so the API server refuses those at `kubectl apply`. What needs other objects or
// sergo-wasm's support (references, a Global concurrency limit, durations longer than the filter
// holds) the controller reports in the object's status instead.
import { DURATION, GRPC_STATUS_NAMES, LIMIT_MODES, LIMITS, MAX_MS, NON_ZERO_DURATION, PERCENT, STRATEGY_KINDS } from './translate.ts';
import { FAULT_TOLERANCE_GROUP, KINDS, type WatchedKind } from './kinds.ts';

type Schema = Record<string, unknown>;

const string = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const integer = (range: { min: number; max: number }, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int64', minimum: range.min, maximum: range.max, ...extra });
const pattern = (re: RegExp): string => re.source;
const object = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
const rule = (expression: string, message: string, fieldPath?: string): Schema => ({ rule: expression, message, ...(fieldPath === undefined ? {} : { fieldPath }) });

const nonZeroDuration = (description: string) => string({ pattern: pattern(NON_ZERO_DURATION), description });
/** The app label rule: a Kubernetes label value. */
const APP = string({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' });
/** RFC 9110 token, as the translator checks header names. */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const SPECS: Record<string, Schema> = {
  RateLimitStrategy: object(
    {
      metricType: string({ enum: ['RequestAmount'] }),
      limitMode: string({ enum: [...LIMIT_MODES], description: 'Local: per proxy; Global: through the rate-limit service; GlobalToLocal: the budget divided by sergo xds' }),
      threshold: integer(LIMITS.threshold),
      statDurationSeconds: integer({ min: 1, max: Math.floor(MAX_MS / 1000) }),
      statDuration: nonZeroDuration('legacy form of the window, e.g. "1s"; give statDurationSeconds or this'),
      failOpen: { type: 'boolean', description: 'Global only: admit when the rate-limit service fails (default false)' },
      batch: integer(LIMITS.batch, { description: 'Global only: hits reserved per call to the rate-limit service (default 1)' }),
    },
    ['metricType', 'limitMode', 'threshold'],
    {
      'x-kubernetes-validations': [
        rule('has(self.statDurationSeconds) != has(self.statDuration)', 'give statDurationSeconds (or the legacy statDuration, e.g. "1s"), not both'),
        rule("self.limitMode == 'Global' || (!has(self.failOpen) && !has(self.batch))", 'failOpen and batch apply to limitMode Global only'),
        rule('!has(self.batch) || self.batch <= 1 || self.batch <= self.threshold', 'batch must be at most the threshold (a larger batch would be refused on every call)', '.batch'),
      ],
    },
  ),
  ThrottlingStrategy: object(
    {
      minIntervalOfRequests: string({ pattern: pattern(DURATION), description: 'spacing between admitted requests, e.g. "20ms" (zero allowed)' }),
      queueTimeout: nonZeroDuration('longest wait for a slot, e.g. "500ms"'),
    },
    ['minIntervalOfRequests', 'queueTimeout'],
  ),
  ConcurrencyLimitStrategy: object(
    {
      maxConcurrency: integer(LIMITS.maxConcurrency),
      // Global is OpenSergo's and applies; the controller reports that sergo-wasm does not enforce it.
      limitMode: string({ enum: ['Local', 'Global'] }),
    },
    ['maxConcurrency', 'limitMode'],
  ),
  CircuitBreakerStrategy: object(
    {
      strategy: string({ enum: ['SlowRequestRatio', 'ErrorRequestRatio'] }),
      triggerRatio: string({ pattern: pattern(PERCENT), description: 'a whole percent, e.g. "60%"' }),
      statDuration: nonZeroDuration('the statistics window, e.g. "30s"'),
      recoveryTimeout: nonZeroDuration('how long the breaker stays open, e.g. "5s"'),
      minRequestAmount: integer(LIMITS.minRequestAmount),
      slowConditions: object({ maxAllowedRt: nonZeroDuration('slower calls are slow, e.g. "500ms"') }, ['maxAllowedRt']),
      errorConditions: object(
        {
          statusCodes: {
            type: 'array',
            minItems: LIMITS.errorStatusRanges.minItems,
            items: { 'x-kubernetes-int-or-string': true, description: 'a status code (503) or an inclusive range ("502-504")' },
          },
        },
        [],
        // `representation` and `errorType` appear in OpenSergo's texts without a meaning: kept so the
        // controller can say they are ignored.
        { 'x-kubernetes-preserve-unknown-fields': true },
      ),
    },
    ['strategy', 'triggerRatio', 'statDuration', 'recoveryTimeout', 'minRequestAmount'],
    { 'x-kubernetes-validations': [rule("self.strategy != 'SlowRequestRatio' || has(self.slowConditions)", 'SlowRequestRatio needs slowConditions.maxAllowedRt', '.slowConditions')] },
  ),
  HttpRequestFallbackAction: object(
    {
      behavior: string({ enum: ['ReturnProvidedResponse'] }),
      behaviorDesc: object(
        {
          responseStatusCode: integer(LIMITS.fallbackStatus),
          responseContentBody: string({ maxLength: LIMITS.fallbackBody.maxLength }),
          responseAdditionalHeaders: {
            type: 'array',
            maxItems: LIMITS.fallbackHeaders.maxItems,
            items: object(
              {
                key: string({ minLength: LIMITS.headerName.minLength, maxLength: LIMITS.headerName.maxLength, pattern: HEADER_NAME }),
                value: string({ maxLength: LIMITS.headerValue.maxLength, pattern: '^[^\\r\\n\\x00]*$' }),
              },
              ['key', 'value'],
            ),
          },
          responseGrpcStatus: { 'x-kubernetes-int-or-string': true, description: `a gRPC status code 0..16 or its name (${GRPC_STATUS_NAMES.join(', ')})` },
        },
        ['responseStatusCode'],
      ),
    },
    ['behavior', 'behaviorDesc'],
  ),
  FaultToleranceRule: object(
    {
      // Other keys are kept so that the controller can say they are ignored.
      selector: object({ app: APP }, [], { 'x-kubernetes-preserve-unknown-fields': true }),
      targets: {
        type: 'array',
        minItems: 1,
        items: object({ targetResourceName: string({ minLength: LIMITS.resource.minLength, maxLength: LIMITS.resource.maxLength }) }, ['targetResourceName']),
      },
      strategies: {
        type: 'array',
        minItems: 1,
        items: object({ name: string({ minLength: 1, maxLength: 253 }), kind: string({ enum: [...STRATEGY_KINDS] }) }, ['name']),
      },
      // The specification writes a name; the control plane's proto a {name, kind} reference.
      fallbackAction: { 'x-kubernetes-preserve-unknown-fields': true, description: 'the HttpRequestFallbackAction: its name, or {name, kind}' },
    },
    ['targets', 'strategies'],
  ),
};

const CONDITION = object(
  {
    type: string(),
    status: string({ enum: ['True', 'False', 'Unknown'] }),
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: string({ format: 'date-time' }),
    reason: string(),
    message: string({ maxLength: 32768 }),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);

const STATUS = object({
  observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  conditions: { type: 'array', items: CONDITION, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  problems: {
    type: 'array',
    description: "the translator's findings: errors keep the object's app on its last good configuration",
    items: object({ severity: string({ enum: ['error', 'warning'] }), field: string(), message: string() }, ['severity', 'message']),
  },
  wasmPlugin: string({ description: 'FaultToleranceRule: the WasmPlugin that carries its app' }),
});

const COLUMNS = [
  { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].reason' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function crd(kind: WatchedKind): Schema {
  const app = kind.kind === 'FaultToleranceRule' ? [{ name: 'App', type: 'string', jsonPath: '.spec.selector.app' }] : [];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.plural}.${FAULT_TOLERANCE_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'sergo-wasm' } },
    spec: {
      group: FAULT_TOLERANCE_GROUP,
      names: { kind: kind.kind, listKind: `${kind.kind}List`, plural: kind.plural, singular: kind.plural === 'httprequestfallbackactions' ? 'httprequestfallbackaction' : kind.kind.toLowerCase(), categories: ['opensergo'] },
      scope: 'Namespaced',
      versions: [
        {
          name: kind.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...app, ...COLUMNS],
          schema: {
            openAPIV3Schema: object({ apiVersion: string(), kind: string(), metadata: { type: 'object' }, spec: SPECS[kind.kind]!, status: STATUS }, ['spec']),
          },
        },
      ],
    },
  };
}

export function crds(): Schema[] {
  return KINDS.map(crd);
}
