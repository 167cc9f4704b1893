import { INCOMPLETE_STREAM_MESSAGE, OllamaStreamError, OllamaTimeoutError } from '../errors.js';
import { abortError } from '../stream-iterator.js';
import { copyJson, type JsonObject } from './json.js';
import { type AnswerStamp, type EndpointProfile, newStamp } from './profile.js';
import { type StoredResponse, storedChunks, storeStream, storeWhole } from './stored-response.js';
import type { UpstreamStream } from './upstream.js';

/** Rejection of a flight that every caller left before it completed: callers still arriving retry. */
export class FlightAbandonedError extends Error {
  constructor() {
    super('every request that was waiting for this answer went away');
    this.name = 'FlightAbandonedError';
  }
}

/** How one reader follows a flight. */
export interface ReadOptions {
  /** Awaited before the final chunk is handed over (the answer is then with the cache). */
  beforeDone?: () => Promise<unknown>;
  /** Give the reader its own copies of the chunks (for callers that may mutate them). Default true. */
  copy?: boolean;
  /** This reader's own labels (its spelling of the model, its id) for live chunks; replays are always stamped. Default: chunks as the model sent them. */
  stamp?: AnswerStamp;
  /** A hold this reader already has (see hold()); the reader releases it when it stops. */
  held?: () => void;
}

const noop = (): void => {};

/**
 * One upstream call shared by every caller that asked the same question at the same time. A
 * streaming flight keeps the chunks it received, so a caller that joins late reads them from the
 * start and then follows live, at its own pace; a pump reads the model at the model's pace, so a
 * slow reader never slows the others. The flight is held by its callers: when the last one leaves
 * before the answer is complete, the upstream call is aborted and nothing is stored. `completion`
 * resolves with the record to store once the answer completed (`done: true`).
 */
export class Flight {
  /** The answer as it will be stored; rejects when the call failed, broke off or was abandoned (FlightAbandonedError). */
  readonly completion: Promise<StoredResponse>;
  /** Resolves once the model started answering; rejects with the upstream's error (e.g. an HTTP status). */
  readonly opened: Promise<void>;
  /** Whether chunks arrive live (a streaming upstream call) rather than as one answer. */
  readonly live: boolean;
  readonly #profile: EndpointProfile;
  readonly #controller = new AbortController();
  readonly #chunks: JsonObject[] = [];
  readonly #idleTimeoutMs: number | undefined;
  readonly #startedAt = Date.now();
  #upstream: UpstreamStream | undefined;
  #state: 'open' | 'done' | 'failed' = 'open';
  #error: unknown;
  #holders = 0;
  #abandoned = false;
  #changed!: Promise<void>;
  #signalChange!: () => void;
  #resolve!: (value: StoredResponse) => void;
  #reject!: (error: unknown) => void;

  private constructor(profile: EndpointProfile, live: boolean, idleTimeoutMs: number | undefined) {
    this.#profile = profile;
    this.live = live;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#resetChange();
    this.completion = new Promise<StoredResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.completion.catch(noop);
    this.opened = undefined as unknown as Promise<void>;
  }

  /** A flight over a streaming call; idleTimeoutMs bounds the silence between two chunks (OllamaTimeoutError). */
  static stream(
    profile: EndpointProfile,
    open: (signal: AbortSignal) => Promise<UpstreamStream>,
    options: { idleTimeoutMs?: number | undefined; host?: string } = {},
  ): Flight {
    const flight = new Flight(profile, true, options.idleTimeoutMs);
    const opening = open(flight.#controller.signal).then((upstream) => {
      flight.#upstream = upstream;
      if (flight.#abandoned) upstream.abort();
      void flight.#pump(upstream, options.host ?? '');
    });
    (flight as { opened: Promise<void> }).opened = opening.catch((error: unknown) => {
      throw flight.#fail(error);
    });
    flight.opened.catch(noop);
    return flight;
  }

  /** A flight over a non-streaming call. */
  static whole(profile: EndpointProfile, fetch: (signal: AbortSignal) => Promise<JsonObject>): Flight {
    const flight = new Flight(profile, false, undefined);
    const fetched = fetch(flight.#controller.signal)
      .then((response) => {
        if (flight.#abandoned) throw abortError();
        flight.#state = 'done';
        flight.#resolve(flight.#timed(storeWhole(profile, response)));
        flight.#notify();
      })
      .catch((error: unknown) => {
        throw flight.#fail(error);
      });
    (flight as { opened: Promise<void> }).opened = fetched;
    flight.opened.catch(noop);
    return flight;
  }

  /** True once a streaming call's answer started arriving (its headers came): from then on a failure cannot be replaced by another answer. */
  get started(): boolean {
    return this.#upstream !== undefined;
  }

  /** True while the answer is still arriving. */
  get open(): boolean {
    return this.#state === 'open';
  }

  /** Counts a caller that waits for this flight; the returned function (idempotent) lets go. */
  hold(): () => void {
    this.#holders++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.#holders === 0) this.abandon();
    };
  }

  /** True once the flight was abandoned: nobody should join it any more. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /**
   * Stops the upstream call unless it already completed. Completion rejects with
   * FlightAbandonedError at once, so the flight leaves the single-flight registry before a new
   * caller can join it.
   */
  abandon(): void {
    if (this.#state !== 'open' || this.#abandoned) return;
    this.#abandoned = true;
    this.#controller.abort(abortError());
    this.#upstream?.abort();
    this.#fail(abortError());
  }

  /** The stored record once complete; rejects when the signal aborts (and lets go of the flight). */
  async result(signal?: AbortSignal, held?: () => void): Promise<StoredResponse> {
    const release = held ?? this.hold();
    try {
      if (signal === undefined) return await this.completion;
      if (signal.aborted) throw signal.reason ?? abortError();
      return await new Promise<StoredResponse>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason ?? abortError());
        signal.addEventListener('abort', onAbort, { once: true });
        this.completion.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      release();
    }
  }

  /**
   * A reader's view: every chunk from the first, then the rest as they arrive; for a flight that is
   * not live, the answer replayed once it is there. Ends after the final chunk; throws the upstream's
   * error when the answer broke off (after the chunks that did arrive, an error chunk included).
   * Leaving early lets go of the flight.
   */
  async *read(signal: AbortSignal, options: ReadOptions = {}): AsyncGenerator<JsonObject, void, undefined> {
    const release = options.held ?? this.hold();
    const copy = options.copy !== false;
    const wake = (): void => this.#notify();
    signal.addEventListener('abort', wake, { once: true });
    try {
      if (!this.live) {
        const stored = await this.result(signal, noop);
        const stamp = options.stamp ?? newStamp(typeof stored.response.model === 'string' ? stored.response.model : undefined);
        const chunks = storedChunks(this.#profile, stored);
        const last = chunks.length - 1;
        for (let i = 0; i <= last; i++) {
          if (signal.aborted) throw signal.reason ?? abortError();
          if (i === last) await options.beforeDone?.();
          yield this.#profile.stamp(chunks[i] as JsonObject, stamp);
        }
        return;
      }
      // The final chunk is only ever in the list once the flight is done (see #pump).
      for (let index = 0; ; ) {
        if (signal.aborted) throw signal.reason ?? abortError();
        const chunk = this.#chunks[index];
        if (chunk !== undefined) {
          index++;
          const out = this.#forReader(chunk, copy, options.stamp);
          if (this.#profile.isFinal(chunk)) {
            await options.beforeDone?.();
            yield out;
            return;
          }
          yield out;
          continue;
        }
        if (this.#state === 'failed') throw this.#error;
        if (this.#state === 'done') return;
        await this.#changed;
      }
    } finally {
      signal.removeEventListener('abort', wake);
      release();
    }
  }

  // The chunk a reader gets: its own copy unless told otherwise, relabelled for a reader that
  // joined another caller's call.
  #forReader(chunk: JsonObject, copy: boolean, stamp: AnswerStamp | undefined): JsonObject {
    if (stamp === undefined) return copy ? copyJson(chunk) : chunk;
    const out = copy ? copyJson(chunk) : { ...chunk };
    this.#profile.relabel(out, stamp);
    return out;
  }

  // How long the model took, kept with the record: the time a later hit saves.
  #timed(stored: StoredResponse): StoredResponse {
    stored.elapsedMs = Date.now() - this.#startedAt;
    return stored;
  }

  #resetChange(): void {
    this.#changed = new Promise<void>((resolve) => {
      this.#signalChange = resolve;
    });
  }

  #notify(): void {
    const signal = this.#signalChange;
    this.#resetChange();
    signal();
  }

  // Settles the flight as failed and returns what its waiters see: an abandoned flight rejects with
  // FlightAbandonedError (callers still arriving retry), any other with the upstream's error.
  #fail(error: unknown): unknown {
    if (this.#state === 'open') {
      this.#state = 'failed';
      this.#error = error;
      this.#reject(this.#abandoned ? new FlightAbandonedError() : error);
      this.#notify();
    }
    return this.#abandoned ? new FlightAbandonedError() : this.#error;
  }

  // The next chunk, or an OllamaTimeoutError when the upstream stays silent for idleTimeoutMs: a
  // stalled stream must not hold its readers, and the callers waiting on it, forever.
  async #next(iterator: AsyncIterator<JsonObject>, host: string): Promise<IteratorResult<JsonObject>> {
    const idleMs = this.#idleTimeoutMs;
    if (idleMs === undefined) return iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#upstream?.abort();
        reject(new OllamaTimeoutError(idleMs, host));
      }, idleMs);
    });
    try {
      return await Promise.race([iterator.next(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #pump(upstream: UpstreamStream, host: string): Promise<void> {
    const iterator = upstream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await this.#next(iterator, host);
        if (this.#abandoned) throw abortError();
        if (step.done) throw new OllamaStreamError('incomplete', INCOMPLETE_STREAM_MESSAGE);
        const chunk = step.value;
        if (this.#profile.isFinal(chunk)) {
          // Let the upstream iterator finish its own bookkeeping (ollama-js deregisters the stream then).
          await iterator.next().catch(noop);
          this.#chunks.push(chunk);
          const stored = this.#timed(storeStream(this.#profile, this.#chunks));
          this.#state = 'done';
          this.#resolve(stored);
          this.#notify();
          return;
        }
        this.#chunks.push(chunk);
        const message = this.#profile.errorOf(chunk);
        if (message !== undefined) throw new OllamaStreamError('error', message);
        this.#notify();
      }
    } catch (error) {
      this.#fail(error);
    }
  }
}
