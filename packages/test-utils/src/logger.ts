/** A log level of CacheLogger. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One captured log call. */
export interface LogRecord {
  /** The level it was logged at. */
  level: LogLevel;
  /** The context object (pino's first argument). */
  context: Record<string, unknown>;
  /** The message. */
  message: string;
}

/** A log method in pino's shape (cache-core's LogFn, restated so this package depends on nothing of ours). */
export type LogMethod = (context: Record<string, unknown>, message: string) => void;

/** A logger (it fits cache-core's CacheLogger) that keeps every call, for asserting what was logged. */
export interface RecordingLogger {
  /** Records a debug call. */
  debug: LogMethod;
  /** Records an info call. */
  info: LogMethod;
  /** Records a warn call. */
  warn: LogMethod;
  /** Records an error call. */
  error: LogMethod;
  /** Every call, in order. */
  readonly records: LogRecord[];
  /** The messages logged at level, in order. */
  messages(level: LogLevel): string[];
}

/** A logger that records every call (pino's shape: a context, then a message). */
export function recordingLogger(): RecordingLogger {
  const records: LogRecord[] = [];
  const at =
    (level: LogLevel) =>
    (context: Record<string, unknown>, message: string): void => {
      records.push({ level, context, message });
    };
  return {
    records,
    messages: (level) => records.filter((record) => record.level === level).map((record) => record.message),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
