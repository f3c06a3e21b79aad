// Diagnostics: every problem found in the input, with where it is and what object it belongs to.
// Rendered as `file:line:col: Kind/name: field: message` (parts that do not apply are left out).

export interface SourcePos {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** The file the problem is in; absent for problems of the whole input (e.g. app selection). */
  file?: string;
  /** Absent when the problem concerns a whole file (e.g. unreadable). */
  line?: number;
  col?: number;
  /** `Kind/name` of the object, when known. */
  object?: string;
  /** Dotted path of the field, e.g. `spec.threshold` or `spec.targets[0].targetResourceName`. */
  field?: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where =
    d.file === undefined ? 'sergo' : d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  const parts = [where];
  if (d.severity === 'warning') parts.push('warning');
  if (d.object !== undefined) parts.push(d.object);
  if (d.field !== undefined && d.field !== '') parts.push(d.field);
  parts.push(oneLine(d.message));
  return parts.join(': ');
}

/** A message must stay on one line so that each diagnostic is exactly one line of output. */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Collects diagnostics in the order they are found. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(at: SourcePos | undefined, object: string | undefined, field: string | undefined, message: string): void {
    this.add({ severity: 'error', ...posFields(at), object, field, message });
  }

  warning(at: SourcePos | undefined, object: string | undefined, field: string | undefined, message: string): void {
    this.add({ severity: 'warning', ...posFields(at), object, field, message });
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'warning');
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

function posFields(at: SourcePos | undefined): Pick<Diagnostic, 'file' | 'line' | 'col'> {
  return at === undefined ? {} : { file: at.file, line: at.line, col: at.col };
}

export function formatPos(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}
