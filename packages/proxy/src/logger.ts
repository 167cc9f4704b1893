/** The proxy's logger: pino, JSON by default, pino-pretty only when asked for (and only then loaded). */
import type { CacheLogger } from '@tinyllm/cache-core';
import pino, { type Logger } from 'pino';
import { BatchedLogDestination } from './log-destination.js';
import { registerRenderedLines } from './request-line.js';

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

/**
 * A pino logger as `tinyllm serve` uses it. JSON lines are gathered and written in batches (one
 * write per ~8 KiB, and at least every flushIntervalMs; see BatchedLogDestination for what that
 * saves). Lines still gathered are written on flush() and when the process exits. pino-pretty is
 * imported only for format 'pretty', which writes each line at once (it is for people watching a
 * terminal).
 */
export async function createProxyLogger(options: ProxyLoggerOptions = {}): Promise<Logger> {
  const level = options.level ?? 'info';
  const destination = options.destination ?? 2;
  if (options.format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level }, pretty({ destination, colorize: process.stderr.isTTY === true && destination === 2, sync: true }));
  }
  const stream = new BatchedLogDestination(destination, options.flushIntervalMs ?? 200);
  process.once('exit', () => stream.end());
  const logger = pino({ level, base: { pid: process.pid } }, stream);
  // Its options are known here (no formatters, no mixin, pid the only binding): request lines are rendered as pino would.
  registerRenderedLines(logger, { stream, bindings: `,"pid":${process.pid}` });
  return logger;
}
