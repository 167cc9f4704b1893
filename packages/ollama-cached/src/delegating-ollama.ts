import {
  type AbortableAsyncIterator,
  type CopyRequest,
  type CreateRequest,
  type DeleteRequest,
  type ListResponse,
  Ollama,
  type ProgressResponse,
  type PullRequest,
  type PushRequest,
  type ShowRequest,
  type ShowResponse,
  type StatusResponse,
  type SystemOneRequest,
  type SystemOneResponse,
  type VersionResponse,
  type WebFetchRequest,
  type WebFetchResponse,
  type WebSearchRequest,
  type WebSearchResponse,
} from 'ollama';
import { toOllamaError } from './errors.js';

/**
 * An `Ollama` whose methods go to another client, with that client's errors typed. The cached
 * client extends it and overrides only what it caches, so the pass-through methods live here once.
 */
export class DelegatingOllama extends Ollama {
  readonly #inner: Ollama;
  readonly #innerHost: string;

  /** Wraps inner; host is its address (for error messages). */
  constructor(inner: Ollama, host: string) {
    super({ host });
    this.#inner = inner;
    this.#innerHost = host;
  }

  /** The client requests go to. */
  get inner(): Ollama {
    return this.#inner;
  }

  async #delegate<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toOllamaError(error, this.#innerHost);
    }
  }

  /** Delegates to the inner client. */
  override create(request: CreateRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override create(request: CreateRequest & { stream?: false }): Promise<ProgressResponse>;
  override create(request: CreateRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.create(request as CreateRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override pull(request: PullRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override pull(request: PullRequest & { stream?: false }): Promise<ProgressResponse>;
  override pull(request: PullRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.pull(request as PullRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override push(request: PushRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override push(request: PushRequest & { stream?: false }): Promise<ProgressResponse>;
  override push(request: PushRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.push(request as PushRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override delete(request: DeleteRequest): Promise<StatusResponse> {
    return this.#delegate(() => this.#inner.delete(request));
  }

  /** Delegates to the inner client. */
  override copy(request: CopyRequest): Promise<StatusResponse> {
    return this.#delegate(() => this.#inner.copy(request));
  }

  /** Delegates to the inner client. */
  override list(): Promise<ListResponse> {
    return this.#delegate(() => this.#inner.list());
  }

  /** Delegates to the inner client. */
  override show(request: ShowRequest): Promise<ShowResponse> {
    return this.#delegate(() => this.#inner.show(request));
  }

  /** Delegates to the inner client. */
  override ps(): Promise<ListResponse> {
    return this.#delegate(() => this.#inner.ps());
  }

  /** Delegates to the inner client. */
  override version(): Promise<VersionResponse> {
    return this.#delegate(() => this.#inner.version());
  }

  /** Delegates to the inner client. */
  override webSearch(request: WebSearchRequest): Promise<WebSearchResponse> {
    return this.#delegate(() => this.#inner.webSearch(request));
  }

  /** Delegates to the inner client. */
  override webFetch(request: WebFetchRequest): Promise<WebFetchResponse> {
    return this.#delegate(() => this.#inner.webFetch(request));
  }

  /** Delegates to the inner client. */
  override systemone(request: SystemOneRequest): Promise<SystemOneResponse> {
    return this.#delegate(() => this.#inner.systemone(request));
  }

  /** Delegates to the inner client. */
  override encodeImage(image: Uint8Array | string): Promise<string> {
    return this.#inner.encodeImage(image);
  }

  /** Aborts the inner client's streams. */
  override abort(): void {
    this.#inner.abort();
  }
}
