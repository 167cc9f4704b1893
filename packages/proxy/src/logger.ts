/** The proxy's logger: pino, JSON by default, pino-pretty only when asked for (and only then loaded). */
import type { CacheLogger } from '@tinyllm/cache-core';
import pino, { type Logger } from 'pino';

/** A pino-compatible logger: what the proxy logs through. */
export interface ProxyLogger extends CacheLogger {
  /** pino's check; when present, the proxy skips building a request's log line at a level that is off. */
  isLevelEnabled?(level: string): boolean;
}

/** Log levels, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Log line formats: one JSON object per line, or coloured human-readable lines (pino-pretty). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
/** One of LOG_FORMATS. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of createProxyLogger. */
export interface ProxyLoggerOptions {
  /** Lowest level written. Default 'info' (one line per request). */
  level?: LogLevel;
  /** json (default) or pretty (needs the pino-pretty package). */
  format?: LogFormat;
  /** File descriptor to write to. Default 2 (stderr). */
  fd?: number;
}

/** A pino logger (and a flush for shutdown) as `tinyllm serve` uses it. pino-pretty is imported only for format 'pretty'. */
export async function createProxyLogger(options: ProxyLoggerOptions = {}): Promise<Logger> {
  const level = options.level ?? 'info';
  const fd = options.fd ?? 2;
  if (options.format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level }, pretty({ destination: fd, colorize: process.stderr.isTTY === true && fd === 2, sync: true }));
  }
  // Asynchronous writes: a request's log line never waits on the terminal or a pipe. flush() at shutdown.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: fd, sync: false }));
}
