// The check chain of one request (after Sentinel-Go's slot chain): every rule of every resource the
// request matched, step by step in the declared order (./order.ts). It knows no strategy by name:
// each check answers with a CheckResult, and the chain acts on the verdict — stop at a block, stop
// at a wait (and go on from there when the request is released), keep an ask for the rate-limit
// service until every local check has passed. It remembers what each passed rule took, so that all
// of it is given back (a block, a stream that ends first) or recorded (a forwarded request) once.
import { Rule } from "../config/config";
import { Resource } from "../match/resource";
import { CheckResult, Verdict } from "./result";
import { STEPS } from "./order";
import { Outcome } from "../http";
import { incrementMetric } from "../abi";

export class Chain {
  /** The resources the request matched (filled by the matcher). */
  readonly resources: Resource[] = [];
  /** Rules whose answer must come from the rate-limit service, asked once the chain has passed. */
  readonly asks: Rule[] = [];
  /** The rule that blocked (Verdict.Block), or made the request wait (Verdict.Wait). */
  stoppedBy: Rule | null = null;
  /** Verdict.Wait: when the request may go on. */
  waitUntil: i64 = 0;
  /** A passed rule watches responses (and wants the clock when the stream ends). */
  watchesResponse: bool = false;

  /** Rules the request passed, in check order, and what each took (reserved[i]: anything at all). */
  private passed: Rule[] = [];
  private reserved: bool[] = [];
  private reservations: i64[] = [];
  /** passed[0, counted) are in requests_passed already. */
  private counted: i32 = 0;
  private result: CheckResult = new CheckResult();
  // Where the chain stopped: step, resource, rule.
  private step: i32 = 0;
  private resource: i32 = 0;
  private index: i32 = 0;

  /** A new request: nothing matched, checked or taken. */
  clear(): void {
    this.resources.length = 0;
    this.asks.length = 0;
    this.stoppedBy = null;
    this.watchesResponse = false;
    this.forgetPassed();
    this.step = 0;
    this.resource = 0;
    this.index = 0;
  }

  /** Runs the checks from where the chain stopped, up to the first that blocks or makes the request
   *  wait; Verdict.Pass when every check is done (asks may remain). */
  run(now: i64): Verdict {
    const result = this.result;
    const resources = this.resources;
    let step = this.step;
    let resource = this.resource;
    let index = this.index;
    while (step < STEPS) {
      while (resource < resources.length) {
        const rules = unchecked(unchecked(resources[resource]).rulesByStep[step]);
        while (index < rules.length) {
          const rule = unchecked(rules[index++]);
          rule.strategy.check(now, result);
          const verdict = result.verdict;
          if (verdict == Verdict.Ask) { this.asks.push(rule); continue; }
          if (verdict == Verdict.Pass) { this.pass(rule, result); continue; }
          // Block, or Wait: stop here (after this rule) until the request is released.
          this.stoppedBy = rule;
          this.step = step;
          this.resource = resource;
          this.index = index;
          if (verdict == Verdict.Wait) { this.pass(rule, result); this.waitUntil = result.until; }
          return verdict;
        }
        resource++;
        index = 0;
      }
      step++;
      resource = 0;
    }
    this.step = step;
    return Verdict.Pass;
  }

  /** `rule` passed with `result` (a check of the chain's, or the service's answer to an ask). */
  pass(rule: Rule, result: CheckResult): void {
    this.passed.push(rule);
    this.reserved.push(result.reserved);
    this.reservations.push(result.reservation);
    if (result.reserved && rule.watchesResponse) this.watchesResponse = true;
  }

  /** Counts requests_passed for the rules passed since the last count (the request goes on to wait,
   *  or upstream: a rule's pass counts once, even if a later step blocks). */
  countPassed(): void {
    const passed = this.passed;
    for (let i = this.counted; i < passed.length; i++) incrementMetric(unchecked(passed[i]).metrics!.passed, 1);
    this.counted = passed.length;
  }

  /** The request never reached the upstream: give back everything, newest first. */
  withdrawAll(now: i64): void {
    for (let i = this.passed.length - 1; i >= 0; i--) {
      if (unchecked(this.reserved[i])) unchecked(this.passed[i]).strategy.withdraw(unchecked(this.reservations[i]), now);
    }
    this.forgetPassed();
  }

  /** How the forwarded request ended, for every rule that watches responses. */
  observeAll(outcome: Outcome, status: u32, elapsedMs: i64, now: i64): void {
    for (let i = 0; i < this.passed.length; i++) {
      const rule = unchecked(this.passed[i]);
      if (unchecked(this.reserved[i]) && rule.watchesResponse) {
        rule.strategy.observe(unchecked(this.reservations[i]), outcome, status, elapsedMs, now);
      }
    }
  }

  /** The forwarded request's stream ended: release what it holds. */
  finishAll(now: i64): void {
    for (let i = 0; i < this.passed.length; i++) {
      if (unchecked(this.reserved[i])) unchecked(this.passed[i]).strategy.finish(unchecked(this.reservations[i]), now);
    }
    this.forgetPassed();
  }

  private forgetPassed(): void {
    this.passed.length = 0;
    this.reserved.length = 0;
    this.reservations.length = 0;
    this.counted = 0;
  }
}
