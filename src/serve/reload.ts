// Reloading the rules: read and translate them again and give the filter the new configuration. A
// bad edit (rules that do not translate, or a configuration the filter refuses) is logged and the
// previous rules keep serving. Reloads never overlap: one asked for while another runs makes that
// one run once more.
import type { ServedFilter } from './filter.ts';
import type { Logger } from './log.ts';
import { loadConfiguration, type LoadResult, type RuleSource, type ServedConfig } from './rules.ts';

export type ReloadResult = 'applied' | 'unchanged' | 'invalid' | 'refused';

/** The rules the filter is running. */
export interface ServedRules {
  config: ServedConfig;
  json: string;
  /** 1 at start, one more per applied reload */
  generation: number;
}

type Loaded = Extract<LoadResult, { ok: true }>;

export class Reloader {
  /** reloads by result */
  readonly counts: Record<ReloadResult, number> = { applied: 0, unchanged: 0, invalid: 0, refused: 0 };
  private lastFailed = false;
  /** The errors of the last failed reload: the same failure again (an editor's second write) is not logged twice. */
  private lastErrors: string | undefined;
  private running: Promise<ReloadResult> | undefined;
  private again = false;

  constructor(
    private readonly source: RuleSource,
    private readonly rules: ServedRules,
    private readonly filter: ServedFilter,
    private readonly logger: Logger,
  ) {}

  /** Re-reads the rules now; during a reload, once more after it (the same promise). */
  reload(): Promise<ReloadResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.untilCurrent().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when no reload is running. */
  async settled(): Promise<void> {
    if (this.running) await this.running.catch(() => undefined);
  }

  private async untilCurrent(): Promise<ReloadResult> {
    let r: ReloadResult;
    do {
      this.again = false;
      try {
        r = await this.once();
      } catch (err) {
        this.logger.error(`reload failed: ${(err as Error).stack ?? String(err)}`);
        r = 'invalid';
      }
    } while (this.again);
    return r;
  }

  private async once(): Promise<ReloadResult> {
    const next = await loadConfiguration(this.source);
    for (const w of next.warnings) this.logger.warn(w);
    let result: ReloadResult;
    if (!next.ok) {
      const errors = next.errors.join('\n');
      const log = (m: string) => (errors === this.lastErrors ? this.logger.debug(m) : this.logger.error(m));
      for (const e of next.errors) log(e);
      const n = next.errors.length;
      log(`reload failed (${n} error${n === 1 ? '' : 's'}): still serving the previous rules (generation ${this.rules.generation})`);
      this.lastErrors = errors;
      result = 'invalid';
    } else if (next.json === this.rules.json) {
      if (this.lastFailed) this.logger.info(`rules valid again, configuration unchanged (generation ${this.rules.generation})`);
      else this.logger.info(`rules read again: configuration unchanged (generation ${this.rules.generation})`);
      result = 'unchanged';
    } else {
      result = this.apply(next);
    }
    this.lastFailed = result === 'invalid' || result === 'refused';
    if (result !== 'invalid') this.lastErrors = undefined;
    this.counts[result]++;
    return result;
  }

  private apply(next: Loaded): ReloadResult {
    const { ok, complaints } = this.filter.configure(next.json);
    if (!ok) {
      const why = complaints.length ? `: ${complaints.join('; ')}` : '';
      this.logger.error(`reload refused by the filter, the previous rules (generation ${this.rules.generation}) keep serving${why}`);
      return 'refused';
    }
    this.rules.config = next.config;
    this.rules.json = next.json;
    this.rules.generation++;
    this.logger.info(`reloaded: ${next.summary} (generation ${this.rules.generation})`);
    return 'applied';
  }
}
