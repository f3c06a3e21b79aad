// What happened during the run: event lines (printed at once in plain mode, shown in the table on a
// terminal) and the circuit breakers' transitions counted for the summary.
import type { BreakerTransition } from '../serve/index.ts';
import type { ProxyHooks } from './proxy.ts';
import { shortRuleName } from './table.ts';

export interface Journal {
  events: string[];
  /** `from → to` → how many times. */
  transitions: Map<string, number>;
  /** What the proxy reports into. */
  hooks: ProxyHooks;
}

export function createJournal(stamp: () => string, tty: boolean, write: (text: string) => void): Journal {
  const events: string[] = [];
  const transitions = new Map<string, number>();
  const event = (text: string) => {
    const line = `${stamp()} ${text}`;
    events.push(line);
    if (!tty) write(`${line}\n`);
  };
  const transition = (t: BreakerTransition) => {
    const key = `${t.from} → ${t.to}`;
    transitions.set(key, (transitions.get(key) ?? 0) + t.count);
    event(`circuit breaker ${shortRuleName(t.rule)}: ${key}${t.count > 1 ? ` (${t.count} times)` : ''}`);
  };
  return { events, transitions, hooks: { event, transition } };
}
