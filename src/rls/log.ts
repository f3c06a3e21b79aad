// The service's logger: leveled lines on one writer (stderr in `sergo rls`), silent when embedded.
export interface RlsLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing `sergo rls: level: message` lines at or above `level`. */
export function createLogger(level: LogLevel, write: (line: string) => void): RlsLogger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(l) <= rank) write(`sergo rls: ${l}: ${message}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export const silentLogger: RlsLogger = { error() {}, warn() {}, info() {}, debug() {} };
