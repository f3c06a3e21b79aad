// The serve logger: one line per event on stderr, `sergo serve: LEVEL: message`, like `sergo rls`.
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel, write: (line: string) => void, prefix = 'sergo serve'): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LOG_LEVELS.indexOf(l) <= rank;
  // Messages made for the command line start `sergo: ` (`sergo: warning: `): the prefix says it already.
  const at = (l: LogLevel) => (message: string) => {
    if (enabled(l)) write(`${prefix}: ${l}: ${message.replace(/^sergo: (?:warning: )?/, '')}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), enabled };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {}, enabled: () => false };
