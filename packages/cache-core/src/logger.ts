/** A log method in pino's shape: a context object, then a message. */
export type LogFn = (context: Record<string, unknown>, message: string) => void;

/** The subset of pino's logger TinyLLM cache logs through; pino, bunyan-style or console adapters fit. */
export interface CacheLogger {
  /** Routine events (hits, misses, sets). */
  debug: LogFn;
  /** Noteworthy events. */
  info: LogFn;
  /** Degraded operation. */
  warn: LogFn;
  /** Failed cache operations (the request still went through). */
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default logger: says nothing. */
export const silentLogger: CacheLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** How keys appear in logs: the first 16 characters, never the whole key or the prompt. */
export function keyForLog(key: string): string {
  return key.slice(0, 16);
}
