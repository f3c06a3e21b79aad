// The stable identity of an enforced rule. The filter keys its shared state by it, so it must not
// change unless the rule's meaning does: it is built only from names, never from positions or order.
import type { StrategyKind } from './model.ts';

export interface RuleIdentity {
  namespace: string;
  app: string;
  ruleName: string;
  strategyKind: StrategyKind;
  strategyName: string;
  resource: string;
}

/** The schema's limit on `id`. */
export const MAX_RULE_ID_LENGTH = 2048;

export function ruleId(r: RuleIdentity): string {
  return `${r.namespace}/${r.app}/${r.ruleName}/${r.strategyKind}/${r.strategyName}@${r.resource}`;
}
