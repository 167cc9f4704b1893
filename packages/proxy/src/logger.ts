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
  /** File descriptor or file path to write to. Default 2 (stderr). */
  destination?: number | string;
  /** JSON lines wait at most this long, in ms, before they are written (they are written in batches). Default 200. */
  flushIntervalMs?: number;
}

/** Bytes of JSON lines gathered before one write: a write per line cost more than the rest of a cache hit. */
const BATCH_BYTES = 8 * 1024;

/**
 * A pino logger as `tinyllm serve` uses it. JSON lines are gathered and written in batches (one
 * write per ~8 KiB, and at least every flushIntervalMs); measured on this project's machines, a
 * write per line cost ~5 us a request, a batched synchronous write ~2.5 us, a batched asynchronous
 * one (a thread-pool hop per batch) ~4.5 us. The writes are synchronous, as pino's default
 * destination is: a log reader that stops reading stops the proxy once the pipe is full. Lines
 * still buffered are written on flush() and when the process exits. pino-pretty is imported only
 * for format 'pretty', which writes each line at once (it is for people watching a terminal).
 */
export async function createProxyLogger(options: ProxyLoggerOptions = {}): Promise<Logger> {
  const level = options.level ?? 'info';
  const destination = options.destination ?? 2;
  if (options.format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level }, pretty({ destination, colorize: process.stderr.isTTY === true && destination === 2, sync: true }));
  }
  const stream = pino.destination({ dest: destination, sync: true, minLength: BATCH_BYTES, periodicFlush: options.flushIntervalMs ?? 200 });
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // nothing more can be done while exiting
    }
  });
  return pino({ level, base: { pid: process.pid } }, stream);
}
