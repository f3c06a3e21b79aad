// Reports problems of one object (`Kind/name`) at the position of the cursor involved.
import type { Cursor } from './cursor.ts';
import type { Diagnostics, SourcePos } from '../diagnostics.ts';
import { didYouMean } from './closest.ts';

export class Reporter {
  private errorsReported = 0;

  constructor(
    readonly diagnostics: Diagnostics,
    /** `Kind/name`, shown in every message. */
    readonly object: string,
  ) {}

  /** How many errors this reporter has reported: lets a reader tell whether what it read is complete. */
  get errorCount(): number {
    return this.errorsReported;
  }

  error(at: Cursor, message: string, field: string = at.path): void {
    this.errorsReported++;
    this.diagnostics.error(at.pos, this.object, field, message);
  }

  /** For problems found after reading, when only the position and path were kept. */
  errorAt(pos: SourcePos, field: string, message: string): void {
    this.errorsReported++;
    this.diagnostics.error(pos, this.object, field, message);
  }

  warning(at: Cursor, message: string, field: string = at.path): void {
    this.diagnostics.warning(at.pos, this.object, field, message);
  }

  warningAt(pos: SourcePos, field: string, message: string): void {
    this.diagnostics.warning(pos, this.object, field, message);
  }

  /** Warns about each key of `map` that is not in `known` (typos must not pass silently). */
  warnUnknownFields(map: Cursor, known: readonly string[]): void {
    for (const key of map.keyNames()) {
      if (!known.includes(key)) {
        const field = map.path === '' ? key : `${map.path}.${key}`;
        this.diagnostics.warning(map.keyPos(key), this.object, field, `unknown field, ignored${didYouMean(key, known)} (known: ${known.join(', ')})`);
      }
    }
  }
}
