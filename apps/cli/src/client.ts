import { type CachedOllamaClient, type CacheInfo, cacheInfo, createCachedClient } from '@tinyllm/ollama-cached';
import { onStdoutClosed } from './broken-pipe.js';
import type { CacheConfig } from './config.js';
import { describeStoreFailure, type StoreFailure } from './errors.js';
import { CacheUnavailableError, type OpenedCache, openCache } from './open-cache.js';
import type { Output } from './output.js';

/** Whether answers go through the cache: on, off (--no-cache), or unavailable (the store could not be opened or reached). */
export type CacheState = 'on' | 'off' | 'unavailable';

/** A cached Ollama client plus the store behind it. */
export interface Session {
  /** The client (a subclass of the official Ollama client). */
  readonly client: CachedOllamaClient;
  /** The open store, when the cache is on. */
  readonly cache: OpenedCache | undefined;
  /** on, off or unavailable. */
  readonly state: CacheState;
  /** Why the store is unavailable (state "unavailable"), e.g. "cannot reach Redis at 127.0.0.1:6379 (connection refused)". */
  readonly unavailableReason: string | undefined;
  /** Closes the client and the store (letting pending writes land first); idempotent. */
  close(): Promise<void>;
  /**
   * After close(): why the answer stored under `key` (CacheInfo.key of a miss or refresh) did not
   * reach the store, or undefined when it did. The cache fails open (an answer is served even when
   * its write fails), so this is the only place a failed write shows.
   */
  writeFailure(key: string): StoreFailure | undefined;
}

/** A JSON object as Ollama sends it. */
export type JsonObject = { [key: string]: unknown };

/** A whole answer and how the cache answered it. */
export interface Answer {
  /** The complete response (as a non-streaming call returns it). */
  response: JsonObject;
  /** The answer's text (generate: response; chat: message.content). */
  text: string;
  /** The model's thinking (with --think), '' when there was none. */
  thinking: string;
  /** hit, miss, refresh, coalesced or bypass, with key, age and savings. */
  info: CacheInfo;
}

/** One request to ask: Ollama's generate or chat shape (model set). */
export type AskRequest =
  | { kind: 'generate'; request: JsonObject & { model: string; prompt: string } }
  | { kind: 'chat'; request: JsonObject & { model: string } };

/** Per-call settings of ask(). */
export interface AskOptions {
  /** Stream the answer, calling onText with each piece as it arrives. */
  onText?: (text: string) => void;
  /** Skip the cached answer and store the fresh one. */
  forceRefresh?: boolean;
  /** TTL of the entry this call writes, in seconds; null = never expires. */
  cacheTtl?: number | null;
  /** Do not store this call's answer (one already stored is still served). */
  noStore?: boolean;
  /** With onText: called with each piece of the model's thinking as it arrives. */
  onThinking?: (text: string) => void;
}

/** Options of openSession. */
export interface SessionOptions {
  /** Warn on stderr when the store is unavailable ("...: answering without the cache"). Default true. */
  warnUnavailable?: boolean;
  /** Deadline of each Ollama request in ms (--timeout-ms). Default: the client's, 300,000. */
  timeoutMs?: number;
}

// Why a write did not land, when the store said only that it refused the entry.
const REFUSED = new Error('the store refused the entry (larger than its byte bound, or not storable)');

/**
 * Opens the store (unless the cache is off) and a cached client on it. A store that cannot be
 * opened or reached is not fatal: a warning goes to stderr and the session runs without a cache.
 * If stdout's reader goes away meanwhile, the session closes (see broken-pipe.ts).
 */
export async function openSession(config: CacheConfig, ollamaHost: string, output: Output, options: SessionOptions = {}): Promise<Session> {
  let cache: OpenedCache | undefined;
  let state: CacheState = config.enabled ? 'on' : 'off';
  let unavailableReason: string | undefined;
  if (config.enabled) {
    try {
      cache = await openCache(config, { onWarning: output.warn });
    } catch (error) {
      if (!(error instanceof CacheUnavailableError)) throw error;
      unavailableReason = error.withHint;
      if (options.warnUnavailable !== false) {
        output.warn(`${error.message}: answering without the cache${error.hint === undefined ? '' : `; ${error.hint}`}`);
      }
      state = 'unavailable';
    }
  }
  const client = createCachedClient({
    host: ollamaHost,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    enableCache: cache !== undefined,
    defaultTtl: config.ttl,
    ...(config.staleIfErrorTtl > 0 ? { staleIfErrorTtl: config.staleIfErrorTtl } : {}),
    ...(config.bindModelDigest ? { bindModelDigest: true } : {}),
    ...(cache === undefined ? {} : { backend: cache.backend }),
  });
  // The cache fails open: a write that did not land shows only as an event (and as the call's
  // cacheInfo().stored). Remember why each one failed, by key, to tell the user.
  const failedWrites = new Map<string, unknown>();
  client.responseCache?.on('writeFailed', ({ key, reason, error }) => {
    if (!failedWrites.has(key)) failedWrites.set(key, error ?? (reason === 'refused' ? REFUSED : new Error(`the write did not land (${reason})`)));
  });
  let closing: Promise<void> | undefined;
  let forget = (): void => {};
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        // Answers are written behind the reply: let the pending writes land before the store closes.
        await client.responseCache?.flush();
        await client.close();
        await cache?.close();
      } finally {
        forget();
      }
    })();
    return closing;
  };
  forget = onStdoutClosed(close);
  return {
    client,
    cache,
    state,
    unavailableReason,
    close,
    writeFailure: (key) => {
      if (key === '' || cache === undefined || !failedWrites.has(key)) return undefined;
      return describeStoreFailure(failedWrites.get(key), { kind: cache.kind, location: cache.location });
    },
  };
}

const textOf = (kind: AskRequest['kind'], chunk: JsonObject): string => {
  if (kind === 'generate') return typeof chunk.response === 'string' ? chunk.response : '';
  const message = chunk.message as { content?: unknown } | undefined;
  return typeof message?.content === 'string' ? message.content : '';
};

const thinkingOf = (kind: AskRequest['kind'], chunk: JsonObject): string => {
  const thinking = kind === 'generate' ? chunk.thinking : (chunk.message as { thinking?: unknown } | undefined)?.thinking;
  return typeof thinking === 'string' ? thinking : '';
};

const BYPASS: CacheInfo = { status: 'bypass', key: '' };

/** Asks one request through the session's client; with onText the answer streams. */
export async function ask(session: Session, { kind, request }: AskRequest, options: AskOptions = {}): Promise<Answer> {
  const controls = {
    ...(options.forceRefresh ? { forceRefresh: true } : {}),
    ...(options.noStore ? { noStore: true } : {}),
    ...(options.cacheTtl === undefined ? {} : { cacheTtl: options.cacheTtl }),
  };
  const client = session.client;
  if (options.onText === undefined) {
    const response = (kind === 'generate'
      ? await client.generate({ ...(request as JsonObject & { model: string; prompt: string }), ...controls, stream: false })
      : await client.chat({ ...(request as JsonObject & { model: string }), ...controls, stream: false })) as unknown as JsonObject;
    return { response, text: textOf(kind, response), thinking: thinkingOf(kind, response), info: cacheInfo(response) ?? BYPASS };
  }
  const stream =
    kind === 'generate'
      ? await client.generate({ ...(request as JsonObject & { model: string; prompt: string }), ...controls, stream: true })
      : await client.chat({ ...(request as JsonObject & { model: string }), ...controls, stream: true });
  const info = cacheInfo(stream) ?? BYPASS;
  let text = '';
  let thinking = '';
  let last: JsonObject = {};
  for await (const chunk of stream as AsyncIterable<JsonObject>) {
    const thought = thinkingOf(kind, chunk);
    if (thought !== '') {
      thinking += thought;
      options.onThinking?.(thought);
    }
    const piece = textOf(kind, chunk);
    if (piece !== '') {
      text += piece;
      options.onText(piece);
    }
    last = chunk;
  }
  const thought = thinking === '' ? {} : { thinking };
  const response: JsonObject =
    kind === 'generate'
      ? { ...last, response: text, ...thought }
      : { ...last, message: { ...(last.message as JsonObject | undefined), content: text, ...thought } };
  return { response, text, thinking, info };
}
