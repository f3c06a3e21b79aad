// The invariants of the deployment model, in the manner of Envoy Gateway's ir Validate(): what every
// target may rely on without checking again. The parsers (src/spec) report problems of the input with
// positions before anything reaches here, so for rules a problem found here is a bug in them; for
// the rate-limit service and the options, which callers pass in, it is their input error.
import { ruleId } from './identity.ts';
import { isIntegerIn, LIMITS, PRINTABLE_ASCII, type Length, type Range } from './limits.ts';
import type { LaneSet } from './lane.ts';
import type { Deployment, Fallback, FilterOptions, RateLimitService, Rule, StrategySpec } from './model.ts';
import { ruleNamespaces } from './deployment.ts';

/** Every violated invariant, one message each (`where: what`); empty when the deployment is valid. */
export function validateDeployment(d: Deployment): string[] {
  return [
    ...membershipProblems(d),
    ...rulesProblems(d.rules),
    ...serviceProblems(d.rateLimitService),
    ...optionProblems(d.options),
    ...(d.lanes === undefined ? [] : laneProblems(d.lanes, d.namespace)),
  ];
}

/** One key; distinct names within the bounds; every lane of the deployment's namespace. */
function laneProblems(set: LaneSet, namespace: string | undefined): string[] {
  const problems: string[] = [];
  const { maxItems } = LIMITS.lanes;
  if (set.lanes.length === 0 || set.lanes.length > maxItems) problems.push(`lanes: ${set.lanes.length} lanes, 1 to ${maxItems} allowed`);
  textProblem(problems, 'lanes.key', set.key, LIMITS.laneKey, true);
  const names = new Set<string>();
  for (const lane of set.lanes) {
    const at = `lanes: TrafficLane/${lane.origin.name}`;
    if (lane.key !== set.key) problems.push(`${at}: key ${lane.key} is not the set's ${set.key}`);
    if (namespace !== undefined && lane.origin.namespace !== namespace) problems.push(`${at}: a lane of namespace ${lane.origin.namespace} in namespace ${namespace}`);
    if (names.has(lane.name)) problems.push(`${at}: two lanes named ${lane.name}`);
    names.add(lane.name);
    textProblem(problems, `${at}: name`, lane.name, LIMITS.laneName, true);
    if (lane.matches.length < LIMITS.laneMatches.minItems || lane.matches.length > LIMITS.laneMatches.maxItems) problems.push(`${at}: ${lane.matches.length} match blocks`);
  }
  return problems;
}

/** One app; one namespace unless `namespace` is absent; at most LIMITS.rules rules, ids unique. */
function membershipProblems(d: Deployment): string[] {
  const problems: string[] = [];
  if (d.rules.length > LIMITS.rules.maxItems) problems.push(`rules: ${d.rules.length} rules, at most ${LIMITS.rules.maxItems} allowed`);
  if (d.app === undefined && d.rules.length > 0) problems.push('app: the rules have no app');
  for (const rule of d.rules) {
    if (d.app !== undefined && rule.app !== d.app) problems.push(`${rule.id}: a rule of app ${rule.app} in the deployment of app ${d.app}`);
    if (d.namespace !== undefined && rule.namespace !== d.namespace) problems.push(`${rule.id}: a rule of namespace ${rule.namespace} in namespace ${d.namespace}`);
  }
  if (d.namespace === undefined && ruleNamespaces(d.rules).length < 2) problems.push('namespace: absent, but the rules do not span several namespaces');
  if (d.namespace === '') problems.push('namespace: empty');
  const ids = new Set<string>();
  for (const { id } of d.rules) {
    if (ids.has(id)) problems.push(`${id}: two rules with this id`);
    ids.add(id);
  }
  return problems;
}

/** Each rule's problems, as `rules[i] (id): …`; nothing is built for a valid rule. */
function rulesProblems(rules: readonly Rule[]): string[] {
  const problems: string[] = [];
  const found: string[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    ruleProblems(found, rule);
    for (const problem of found) problems.push(`rules[${i}] (${rule.id}): ${problem}`);
    found.length = 0;
  }
  return problems;
}

/** The rule's problems, each relative to the rule (`id: …`, `strategy.threshold: …`). */
function ruleProblems(problems: string[], rule: Rule): void {
  const { origin } = rule.strategy;
  const id = ruleId({ namespace: rule.namespace, app: rule.app, ruleName: rule.ruleName, strategyKind: origin.kind, strategyName: origin.name, resource: rule.resource });
  if (rule.id !== id) problems.push(`id is not ${id}`);
  textProblem(problems, 'id', rule.id, LIMITS.ruleId, true);
  textProblem(problems, 'resource', rule.resource, LIMITS.resource, true);
  if (!/^([A-Z]+:)?\//.test(rule.resource)) problems.push('resource: not /path or METHOD:/path');
  strategyProblems(problems, rule.strategy.spec);
  if (rule.fallback !== undefined) fallbackProblems(problems, rule.fallback);
}

function strategyProblems(problems: string[], s: StrategySpec): void {
  const at = 'strategy';
  switch (s.kind) {
    case 'RateLimit':
      fieldProblem(problems, at, 'threshold', s.threshold, LIMITS.threshold);
      fieldProblem(problems, at, 'windowMs', s.windowMs, LIMITS.windowMs);
      if (s.global !== undefined) {
        fieldProblem(problems, at, 'batch', s.global.batch, LIMITS.batch);
        if (s.global.batch > 1 && s.global.batch > s.threshold) problems.push(`${at}.batch: ${s.global.batch} is more than the threshold`);
        if (s.globalToLocal !== undefined) problems.push(`${at}: both Global and GlobalToLocal`);
      }
      return;
    case 'Throttling':
      fieldProblem(problems, at, 'intervalMs', s.intervalMs, LIMITS.intervalMs);
      fieldProblem(problems, at, 'queueTimeoutMs', s.queueTimeoutMs, LIMITS.queueTimeoutMs);
      return;
    case 'ConcurrencyLimit':
      fieldProblem(problems, at, 'maxConcurrency', s.maxConcurrency, LIMITS.maxConcurrency);
      return;
    case 'CircuitBreaker':
      if (!(s.triggerRatio >= LIMITS.triggerRatio.min && s.triggerRatio <= LIMITS.triggerRatio.max)) problems.push(`${at}.triggerRatio: ${s.triggerRatio} is not in 0..1`);
      fieldProblem(problems, at, 'statDurationMs', s.statDurationMs, LIMITS.statDurationMs);
      fieldProblem(problems, at, 'recoveryTimeoutMs', s.recoveryTimeoutMs, LIMITS.recoveryTimeoutMs);
      fieldProblem(problems, at, 'minRequestAmount', s.minRequestAmount, LIMITS.minRequestAmount);
      if (s.mode === 'SlowRequestRatio') fieldProblem(problems, at, 'maxAllowedRtMs', s.maxAllowedRtMs, LIMITS.maxAllowedRtMs);
      else errorStatusProblems(problems, 'strategy.errorStatus', s.errorStatus);
  }
}

/** 1..64 ranges of status codes, each from ≤ to, sorted and apart (what the translator merges). */
function errorStatusProblems(problems: string[], at: string, ranges: ReadonlyArray<readonly [number, number]>): void {
  const { minItems, maxItems } = LIMITS.errorStatusRanges;
  if (ranges.length < minItems || ranges.length > maxItems) problems.push(`${at}: ${ranges.length} ranges, ${minItems} to ${maxItems} allowed`);
  ranges.forEach(([from, to], i) => {
    if (!isIntegerIn(from, LIMITS.errorStatusCode) || !isIntegerIn(to, LIMITS.errorStatusCode) || from > to) problems.push(`${at}[${i}]: [${from}, ${to}] is not a range of status codes`);
    if (i > 0 && from <= ranges[i - 1]![1] + 1) problems.push(`${at}[${i}]: not sorted, or touches the range before`);
  });
}

function fallbackProblems(problems: string[], f: Fallback): void {
  const at = 'fallback';
  fieldProblem(problems, at, 'status', f.status, LIMITS.fallbackStatus);
  if (f.grpcStatus !== undefined) fieldProblem(problems, at, 'grpcStatus', f.grpcStatus, LIMITS.grpcStatus);
  if (f.body !== undefined && f.body.length > LIMITS.fallbackBody.maxLength) problems.push(`${at}.body: longer than ${LIMITS.fallbackBody.maxLength}`);
  if (f.headers.length > LIMITS.fallbackHeaders.maxItems) problems.push(`${at}.headers: more than ${LIMITS.fallbackHeaders.maxItems}`);
  f.headers.forEach(([name, value], i) => {
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || name.length > LIMITS.headerName.maxLength) problems.push(`${at}.headers[${i}]: "${name}" is not a lower-case HTTP token`);
    if (/[\r\n\0]/.test(value) || value.length > LIMITS.headerValue.maxLength) problems.push(`${at}.headers[${i}]: the value has CR, LF or NUL, or is too long`);
  });
}

function serviceProblems(s: RateLimitService): string[] {
  const problems: string[] = [];
  textProblem(problems, 'rateLimitService.cluster', s.cluster, LIMITS.serviceText, true);
  textProblem(problems, 'rateLimitService.authority', s.authority, LIMITS.serviceText, true);
  textProblem(problems, 'rateLimitService.path', s.path, LIMITS.serviceText, true);
  if (!s.path.startsWith('/')) problems.push('rateLimitService.path: does not start with /');
  textProblem(problems, 'rateLimitService.domain', s.domain, LIMITS.serviceText, false);
  intProblem(problems, 'rateLimitService.timeoutMs', s.timeoutMs, LIMITS.serviceTimeoutMs);
  if (s.endpoint !== undefined && (s.endpoint.host === '' || !isIntegerIn(s.endpoint.port, { min: 1, max: 65535 }))) {
    problems.push(`rateLimitService.endpoint: ${s.endpoint.host}:${s.endpoint.port} is not HOST:PORT`);
  }
  return problems;
}

function optionProblems(o: FilterOptions): string[] {
  const problems: string[] = [];
  if (o.maxQueuedPerVm !== undefined) intProblem(problems, 'options.maxQueuedPerVm', o.maxQueuedPerVm, LIMITS.maxQueuedPerVm);
  if (o.casRetries !== undefined) intProblem(problems, 'options.casRetries', o.casRetries, LIMITS.casRetries);
  if (o.onCasExhausted !== undefined && o.onCasExhausted !== 'block' && o.onCasExhausted !== 'allow') {
    problems.push(`options.onCasExhausted: "${String(o.onCasExhausted)}" is not block or allow`);
  }
  return problems;
}

function intProblem(problems: string[], at: string, value: number, range: Range): void {
  if (!isIntegerIn(value, range)) problems.push(`${at}: ${value} is not an integer in ${range.min}..${range.max}`);
}

/** intProblem of the field `at.name`, its name built only for a problem. */
function fieldProblem(problems: string[], at: string, name: string, value: number, range: Range): void {
  if (!isIntegerIn(value, range)) intProblem(problems, `${at}.${name}`, value, range);
}

function textProblem(problems: string[], at: string, value: string, limit: Length, printable: boolean): void {
  if (value.length < (limit.minLength ?? 0) || value.length > limit.maxLength) {
    problems.push(`${at}: ${value.length} characters, ${limit.minLength ?? 0} to ${limit.maxLength} allowed`);
  } else if (printable && value !== '' && !PRINTABLE_ASCII.test(value)) {
    problems.push(`${at}: not printable ASCII without spaces`);
  }
}
