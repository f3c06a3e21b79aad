// The stable identity of an enforced rule. The filter keys its shared state by it, so it must not
// change unless the rule's meaning does: it is built only from names, never from positions or order.
import { LIMITS } from './limits.ts';
import type { StrategyKind } from './model.ts';

export interface RuleIdentity {
  namespace: string;
  app: string;
  ruleName: string;
  strategyKind: StrategyKind;
  strategyName: string;
  resource: string;
}

export const MAX_RULE_ID_LENGTH = LIMITS.ruleId.maxLength;

export function ruleId(r: RuleIdentity): string {
  return `${r.namespace}/${r.app}/${r.ruleName}/${r.strategyKind}/${r.strategyName}@${r.resource}`;
}
