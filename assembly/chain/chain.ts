// The check chain of one request (after Sentinel-Go's slot chain): every rule of every resource the
// request matched, step by step in the declared order (./order.ts). It knows no strategy by name:
// each check answers with a CheckResult, and the chain acts on the verdict — stop at a block, stop
// at a wait (and go on from there when the request is released), keep an ask for the rate-limit
// service until every local check has passed. It remembers what each passed rule took, so that all
// of it is given back (a block, a stream that ends first) or recorded (a forwarded request) once.
//
// The local strategies keep their state in one record per resource (../state/packed.ts). A run of
// the chain is one transaction over those records: each is read once, when the chain reaches its
// first rule, every check edits its section in memory, and each changed record is written once
// with CAS when the run ends in a pass or a wait. A block writes nothing (so nothing taken in that
// run needs giving back). A write that loses the race gives back what the run wrote already and
// runs the same checks again on fresh reads, at most options.casRetries times.
import { Rule } from "../config/config";
import { Resource } from "../match/resource";
import { CheckResult, Verdict } from "./result";
import { STEPS } from "./order";
import { Outcome } from "../http";
import { PackedRecord, NO_SECTION } from "../state/packed";
import { casRetries, RELEASE_ATTEMPTS_FACTOR } from "../state/shared";
import { allowsOnCasExhausted, countCasExhausted } from "../strategies/strategy";

/** How a run treats packed rules: their records, or (every attempt lost) no state at all. */
const enum Mode { Records, PassUnreserved, BlockAtFirst }

/** Marks the records a release has handled (each once per release). */
let releaseEpoch: u32 = 0;

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
  // How the forwarded request ended (observeAll), recorded with the releases when the stream ends.
  private observed: bool = false;
  private outcome: Outcome = Outcome.NoResponse;
  private status: u32 = 0;
  private elapsedMs: i64 = 0;
  private observedAt: i64 = 0;

  /** A new request: nothing matched, checked or taken. */
  clear(): void {
    this.resources.length = 0;
    this.asks.length = 0;
    this.stoppedBy = null;
    this.watchesResponse = false;
    this.observed = false;
    this.forgetPassed();
    this.step = 0;
    this.resource = 0;
    this.index = 0;
  }

  /** Runs the checks from where the chain stopped, up to the first that blocks or makes the request
   *  wait; Verdict.Pass when every check is done (asks may remain). */
  run(now: i64): Verdict {
    const step = this.step, resource = this.resource, index = this.index;
    const from = this.passed.length, asksFrom = this.asks.length;
    for (let attempt = 0; attempt < casRetries; attempt++) {
      this.beginRecords();
      const verdict = this.walk(now, Mode.Records);
      if (verdict == Verdict.Block) { this.forgetUnwritten(from); return verdict; }
      if (this.commitRecords()) { this.reportCommitted(from); return verdict; }
      // Another worker wrote a record between this run's read and write: give back what the run
      // wrote already, and check again on fresh reads.
      this.release(from, false, true, now);
      this.rewind(step, resource, index, from, asksFrom);
    }
    countCasExhausted();
    const verdict = this.walk(now, allowsOnCasExhausted() ? Mode.PassUnreserved : Mode.BlockAtFirst);
    if (verdict == Verdict.Block) this.forgetUnwritten(from);
    return verdict;
  }

  /** The checks from the saved place to the first block or wait (the place is saved there). */
  private walk(now: i64, mode: Mode): Verdict {
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
          if (!rule.packed) rule.strategy.check(now, result);
          else if (mode == Mode.Records) this.take(rule, now, result);
          else if (mode == Mode.PassUnreserved) result.pass();
          else result.block();
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

  /** A packed rule's check on its resource's record (read on the first rule that needs it). */
  @inline private take(rule: Rule, now: i64, result: CheckResult): void {
    const strategy = rule.strategy;
    const record = strategy.record!;
    if (!record.loaded) record.load(true);
    if (strategy.take(record.section(strategy.section), now, result)) record.dirty = true;
  }

  private beginRecords(): void {
    const resources = this.resources;
    for (let i = 0; i < resources.length; i++) {
      const record = unchecked(resources[i]).record;
      if (record !== null) record.begin();
    }
  }

  /** Writes every record the run changed; false when one lost the race. */
  private commitRecords(): bool {
    const resources = this.resources;
    for (let i = 0; i < resources.length; i++) {
      const record = unchecked(resources[i]).record;
      if (record !== null && record.loaded && record.dirty && !record.commit()) return false;
    }
    return true;
  }

  /** The run's edits were written: strategies that count what they did (breaker transitions) do. */
  private reportCommitted(from: i32): void {
    for (let i = from; i < this.passed.length; i++) {
      const rule = unchecked(this.passed[i]);
      if (rule.packed) rule.strategy.committed();
    }
  }

  /** The run blocked: its packed passes were never written (its unpacked ones were, by their checks). */
  private forgetUnwritten(from: i32): void {
    let kept = from;
    for (let i = from; i < this.passed.length; i++) {
      if (unchecked(this.passed[i]).packed) continue;
      unchecked(this.passed[kept] = this.passed[i]);
      unchecked(this.reserved[kept] = this.reserved[i]);
      unchecked(this.reservations[kept] = this.reservations[i]);
      kept++;
    }
    this.truncate(kept);
  }

  private rewind(step: i32, resource: i32, index: i32, from: i32, asksFrom: i32): void {
    this.step = step;
    this.resource = resource;
    this.index = index;
    this.stoppedBy = null;
    this.asks.length = asksFrom;
    this.truncate(from);
  }

  private truncate(length: i32): void {
    this.passed.length = length;
    this.reserved.length = length;
    this.reservations.length = length;
    if (this.counted > length) this.counted = length;
    let watches = false;
    for (let i = 0; i < length; i++) if (unchecked(this.reserved[i]) && unchecked(this.passed[i]).watchesResponse) watches = true;
    this.watchesResponse = watches;
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
    for (let i = this.counted; i < passed.length; i++) unchecked(passed[i]).strategy.countPassed();
    this.counted = passed.length;
  }

  /** The request never reached the upstream: give back everything, newest first. */
  withdrawAll(now: i64): void {
    this.release(0, false, false, now);
    this.forgetPassed();
  }

  /** How the forwarded request ended; recorded, with what it holds, when its stream ends. */
  observeAll(outcome: Outcome, status: u32, elapsedMs: i64, now: i64): void {
    this.observed = true;
    this.outcome = outcome;
    this.status = status;
    this.elapsedMs = elapsedMs;
    this.observedAt = now;
  }

  /** The forwarded request's stream ended: record how (observeAll) and release what it holds. */
  finishAll(now: i64): void {
    this.release(0, true, false, now);
    this.forgetPassed();
  }

  /**
   * Gives back (a request that never reached the upstream) or settles (`ending`: a forwarded one's
   * stream ended) what passed[from, …) reserved: one read and write per packed record for all its
   * rules (`onlyWritten`: only records this run wrote), then the unpacked rules one by one.
   */
  private release(from: i32, ending: bool, onlyWritten: bool, now: i64): void {
    const epoch = ++releaseEpoch;
    for (let i = this.passed.length - 1; i >= from; i--) {
      if (!unchecked(this.reserved[i])) continue;
      const rule = unchecked(this.passed[i]);
      const strategy = rule.strategy;
      if (!rule.packed) {
        if (!ending) strategy.withdraw(unchecked(this.reservations[i]), now);
        else {
          if (this.observed && rule.watchesResponse) strategy.observe(unchecked(this.reservations[i]), this.outcome, this.status, this.elapsedMs, this.observedAt);
          strategy.finish(unchecked(this.reservations[i]), now);
        }
        continue;
      }
      if (ending && !rule.endsWithStream) continue;
      const record = strategy.record!;
      if (record.releaseEpoch == epoch) continue;
      record.releaseEpoch = epoch;
      if (onlyWritten && !record.committed) continue;
      this.releaseRecord(record, from, ending, now);
    }
  }

  /** One record's share of `release`, under CAS with the attempts of a give-back. */
  private releaseRecord(record: PackedRecord, from: i32, ending: bool, now: i64): void {
    const attempts = casRetries * RELEASE_ATTEMPTS_FACTOR;
    for (let attempt = 0; attempt < attempts; attempt++) {
      record.begin();
      record.load(false);
      let changed = record.dirty;
      for (let i = this.passed.length - 1; i >= from; i--) {
        const rule = unchecked(this.passed[i]);
        const strategy = rule.strategy;
        if (!unchecked(this.reserved[i]) || strategy.record !== record || (ending && !rule.endsWithStream)) continue;
        const ptr = record.section(strategy.section);
        if (ptr == NO_SECTION) continue;
        const reservation = unchecked(this.reservations[i]);
        const edited = ending
          ? strategy.ended(ptr, reservation, this.outcome, this.status, this.elapsedMs, this.observed ? this.observedAt : now)
          : strategy.giveBack(ptr, reservation, now);
        if (edited) changed = true;
      }
      if (!changed) return;
      if (!record.commit()) continue;
      for (let i = from; i < this.passed.length; i++) {
        const strategy = unchecked(this.passed[i]).strategy;
        if (strategy.record === record) strategy.committed();
      }
      return;
    }
  }

  private forgetPassed(): void {
    this.passed.length = 0;
    this.reserved.length = 0;
    this.reservations.length = 0;
    this.counted = 0;
  }
}
