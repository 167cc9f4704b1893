import type { AbortableAsyncIterator } from 'ollama';

/** The AbortError a stream's consumer sees after abort(), as fetch raises it. */
export function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}

/**
 * A stream with the interface of ollama-js's AbortableAsyncIterator (`abort()` and
 * `for await`). ollama-js 0.6 declares that class in its types but does not export it at run time,
 * so this class stands in for it and is typed as it (see asAbortable).
 */
export class StreamIterator<T extends object> {
  // Made on first use: a stream nobody reads or aborts (a replay the proxy writes at once) costs none.
  #controller: AbortController | undefined;
  readonly #source: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>;
  readonly #onAbort: (() => void) | undefined;
  #generator: AsyncGenerator<T, void, undefined> | undefined;

  /** source yields the chunks and must stop with the signal's AbortError once it is aborted. */
  constructor(source: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>, onAbort?: () => void) {
    this.#source = source;
    this.#onAbort = onAbort;
  }

  /** Stops the stream: the consumer's loop throws an AbortError. */
  abort(): void {
    this.#controller ??= new AbortController();
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(abortError());
    this.#onAbort?.();
  }

  /** True once abort() was called. */
  get aborted(): boolean {
    return this.#controller?.signal.aborted === true;
  }

  /** Iterates the chunks; the last one has `done: true`. A second loop resumes where the first stopped, as in ollama-js. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, unknown> {
    this.#controller ??= new AbortController();
    this.#generator ??= this.#source(this.#controller.signal);
    for await (const chunk of this.#generator) yield chunk;
  }
}

/** Types a StreamIterator as ollama-js's AbortableAsyncIterator (same public interface). */
export function asAbortable<T extends object>(iterator: StreamIterator<T>): AbortableAsyncIterator<T> {
  return iterator as unknown as AbortableAsyncIterator<T>;
}
