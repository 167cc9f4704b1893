import type { CacheEntry } from './entry.js';
import { InvalidOptionError } from './errors.js';
import type { CacheLogger } from './logger.js';

/** Why a write did not land: the backend failed, the backend refused the entry, or the cache was closed first. */
export type WriteFailure = 'error' | 'refused' | 'closed';

/** The events of a ResponseCache and their payloads. */
export interface ResponseCacheEvents<T = unknown> {
  /** A lookup found an entry (after expiry and validation). */
  hit: { key: string; entry: CacheEntry<T> };
  /** A lookup found nothing, joined a computation in flight, or was a forced refresh (every count of `misses`). */
  miss: { key: string };
  /** A write landed in the backend. */
  set: { key: string; entry: CacheEntry<T> };
  /** A write did not land: the backend failed (`error` holds why), refused the entry (too large, not JSON), or the cache closed first. */
  writeFailed: { key: string; reason: WriteFailure; error?: unknown };
  /** A backend operation failed or timed out (the caller got a miss or a skipped write instead). `key` is undefined for clear, stats and counters. */
  error: { operation: string; key: string | undefined; error: unknown };
  /** The backend evicted an entry to respect its bounds. */
  eviction: { key: string };
}

/** The name of a ResponseCache event. */
export type ResponseCacheEventName = keyof ResponseCacheEvents;

const EVENT_NAMES: ReadonlySet<string> = new Set<ResponseCacheEventName>(['hit', 'miss', 'set', 'writeFailed', 'error', 'eviction']);

type Listeners<T> = { [E in keyof ResponseCacheEvents<T>]?: ReadonlyArray<(payload: ResponseCacheEvents<T>[E]) => void> };

/**
 * The listeners of one cache. Each event's list is replaced, never changed in place, so an emit in
 * progress is unaffected by (un)subscribing, and an event nobody listens to is an undefined field:
 * the emitting side checks it before building a payload, so silence costs nothing.
 */
export class CacheEvents<T> {
  /** The current listeners by event; read by the emitting side to skip payloads nobody wants. */
  readonly listeners: Listeners<T> = {};
  readonly #logger: CacheLogger;

  constructor(logger: CacheLogger) {
    this.#logger = logger;
  }

  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof ResponseCacheEvents<T>>(event: E, listener: (payload: ResponseCacheEvents<T>[E]) => void): () => void {
    if (!EVENT_NAMES.has(event)) throw new InvalidOptionError('event', event, `one of ${[...EVENT_NAMES].join(', ')}`);
    if (typeof listener !== 'function') throw new InvalidOptionError('listener', listener, 'a function');
    const listeners = this.listeners as Record<E, ReadonlyArray<typeof listener> | undefined>;
    listeners[event] = [...(listeners[event] ?? []), listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const rest = (listeners[event] ?? []).filter((candidate) => candidate !== listener);
      listeners[event] = rest.length === 0 ? undefined : rest;
    };
  }

  /** Calls every listener of event with payload, synchronously; a throwing listener is logged and skipped. */
  emit<E extends keyof ResponseCacheEvents<T>>(event: E, payload: ResponseCacheEvents<T>[E]): void {
    const listeners = this.listeners[event];
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        this.#logger.error({ event: 'listener_error', cacheEvent: event, err: error }, `a listener of the cache's ${event} event threw; ignored`);
      }
    }
  }
}
