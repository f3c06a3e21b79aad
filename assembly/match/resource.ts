// A resource key (`targetResourceName`) and the rules attached to it, grouped by their step of the
// chain (chain/order.ts) so the request path runs the checks in the declared order without sorting.
import { Rule } from "../config/config";
import { STEPS } from "../chain/order";
import { bytesEqual } from "../abi";

export class Resource {
  /** Rules by step of the chain; within a step, in configuration order. */
  readonly rulesByStep: StaticArray<Rule[]> = new StaticArray<Rule[]>(STEPS);
  /** "" when the key has no METHOD: prefix. */
  readonly method: string;
  readonly methodBytes: ArrayBuffer;
  readonly path: string;

  constructor(public key: string) {
    const slash = key.indexOf("/");
    const method = slash > 0 ? key.substring(0, slash - 1) : "";
    this.method = method;
    this.methodBytes = String.UTF8.encode(method);
    this.path = key.substring(slash);
    for (let k = 0; k < STEPS; k++) this.rulesByStep[k] = [];
  }

  /** Templates use `{name}` segments or end in `/**`; everything else is an exact key. */
  get isTemplate(): bool { return this.path.includes("{") || this.path.endsWith("/**"); }

  /** Whether a request with this :method (raw bytes) is covered by the key's METHOD, if any. */
  acceptsMethod(ptr: usize, len: usize): bool {
    return this.method.length == 0 ||
      bytesEqual(changetype<usize>(this.methodBytes), <usize>this.methodBytes.byteLength, ptr, len);
  }

  add(rule: Rule): void { this.rulesByStep[rule.strategy.step()].push(rule); }
}
