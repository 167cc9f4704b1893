/**
 * Writing the engine's answer to the client in the route's wire format: Ollama's JSON and NDJSON,
 * or the /v1 layer's JSON and Server-Sent Events, with the cache's headers (X-Cache, Age,
 * X-TinyLLM-Key). A streamed answer is written as it arrives, with backpressure: a slow client
 * never slows the upstream call or the other callers sharing it.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type CacheInfo, type EndpointProfile, type EngineAnswer, likeGo, OllamaStreamError } from '@tinyllm/ollama-cached/engine';
import type { CacheHeaderStatus } from '../counters.js';
import { keyPrefixOf } from '../key-prefix.js';
import { rawAnswerOf } from './engine-upstream.js';
import { chunkText } from './frames.js';
import { replayBody } from './replay-body.js';
import { answerBody, encodedBody, encodingOf, splitBody } from './serialize.js';

/** The X-Cache value of an engine status. */
export function cacheHeaderOf(status: CacheInfo['status']): CacheHeaderStatus {
  switch (status) {
    case 'hit':
      return 'HIT';
    case 'coalesced':
      return 'COALESCED';
    case 'bypass':
      return 'BYPASS';
    case 'stale':
      return 'STALE';
    default:
      return 'MISS';
  }
}

/** Adds the cache's response headers for an answer to `headers` (filled in place rather than spread: this is every hit's path), and returns it. */
export function cacheHeaders(info: CacheInfo, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  headers['X-Cache'] = cacheHeaderOf(info.status);
  if (info.key !== '') headers['X-TinyLLM-Key'] = keyPrefixOf(info.key);
  if (info.ageMs !== undefined) headers.Age = String(Math.floor(info.ageMs / 1000));
  return headers;
}

const isOpenAi = (profile: EndpointProfile): boolean => profile.endpoint.startsWith('v1/');

/** Writes a whole answer: Ollama's own bytes when this call asked Ollama itself, else the answer serialised as Ollama does. */
export function writeWhole(res: ServerResponse, profile: EndpointProfile, answer: Extract<EngineAnswer, { kind: 'whole' }>): void {
  const raw = rawAnswerOf(answer.origin);
  const openai = isOpenAi(profile);
  const stamp = raw === undefined ? answer.stamp : undefined;
  if (stamp !== undefined && openai) {
    // /v1: a new id nearly every hit, so the body is not reused whole: its short head is written as
    // text, the rest as the bytes made once per answer (Go's json.Encoder ends the body with a newline).
    const split = splitBody(profile, answer.response, stamp, '\n');
    if (split !== undefined) {
      res.writeHead(200, cacheHeaders(answer.info, { 'Content-Type': 'application/json', 'Content-Length': split.headBytes + split.rest.length }));
      res.write(split.head, encodingOf(split.head, split.headBytes));
      res.end(split.rest);
      return;
    }
  }
  let body: string | Buffer;
  let length: number;
  if (raw !== undefined) {
    body = raw.body;
    length = body.length;
  } else if (stamp !== undefined && !openai) {
    // The same body as the last hit's whenever its stamp repeats (created_at changes once a
    // millisecond): its bytes are made once and written as they are, no string copied per hit.
    body = encodedBody(answerBody(profile, answer.response, stamp));
    length = body.length;
  } else {
    const json = stamp === undefined ? { text: likeGo(JSON.stringify(answer.response)), bytes: -1 } : answerBody(profile, answer.response, stamp);
    // Go's json.Encoder (the /v1 layer) ends the body with a newline; gin's c.JSON (native) does not.
    body = openai ? `${json.text}\n` : json.text;
    length = json.bytes < 0 ? Buffer.byteLength(body) : json.bytes + (openai ? 1 : 0);
  }
  const type = raw?.headers['content-type'] ?? (openai ? 'application/json' : 'application/json; charset=utf-8');
  res.writeHead(200, cacheHeaders(answer.info, { 'Content-Type': type, 'Content-Length': length }));
  res.end(body, typeof body === 'string' ? encodingOf(body, length) : 'utf8');
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The whole body of a streamed answer the engine replays from the store, or undefined when it must be streamed frame by frame (writeStream): too long, or no template for it yet. */
export function wholeReplay(profile: EndpointProfile, answer: Extract<EngineAnswer, { kind: 'stream' }>, includeUsage: boolean): string | undefined {
  return answer.replay === undefined ? undefined : replayBody(profile, answer.replay, isOpenAi(profile), includeUsage);
}

/** Writes a replay's whole body (wholeReplay) in one write: a replay has nothing to wait for (Ollama's framing: chunked, no length). */
export function writeReplay(res: ServerResponse, profile: EndpointProfile, answer: Extract<EngineAnswer, { kind: 'stream' }>, body: string): void {
  writeStreamHead(res, profile, answer.info);
  res.end(body);
}

/** A streamed answer's status and headers: NDJSON, or SSE on /v1, as Ollama sends them. */
function writeStreamHead(res: ServerResponse, profile: EndpointProfile, info: CacheInfo): void {
  res.writeHead(200, cacheHeaders(info, { 'Content-Type': isOpenAi(profile) ? 'text/event-stream' : 'application/x-ndjson' }));
}

/**
 * Writes a streamed answer, frame by frame as the engine hands them over. Headers leave with the
 * first frame (Ollama sends nothing before its first token). A stream that broke after it started
 * ends the response as Ollama's does (native: after its error line; /v1: without [DONE]); one that
 * broke for another reason (the connection to Ollama) cuts the client's connection, so the client
 * sees the failure. Resolves when the answer is written or the client left; rejects only when the
 * stream failed before anything was written (the caller answers the error).
 */
export async function writeStream(
  res: ServerResponse,
  profile: EndpointProfile,
  answer: Extract<EngineAnswer, { kind: 'stream' }>,
  includeUsage: boolean,
): Promise<void> {
  const openai = isOpenAi(profile);
  const stream = answer.chunks;
  // A client that goes away stops its reading at once, not at the next chunk: when nobody else
  // waits for the answer, the upstream generation stops with it.
  const onClose = (): void => {
    if (!res.writableFinished) stream.abort();
  };
  res.once('close', onClose);
  // Frames that are ready together (a replay, or a burst from Ollama) leave in one write: the
  // response is corked on the first write of a burst and uncorked once the burst is over.
  let corked = false;
  const uncork = (): void => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };
  let started = false;
  const start = (): void => {
    started = true;
    writeStreamHead(res, profile, answer.info);
  };
  try {
    for await (const chunk of stream) {
      const text = chunkText(profile, chunk, openai, includeUsage);
      if (text === undefined) continue;
      // The first frame leaves at once with the headers (time to first token is what a user sees);
      // later frames that come together leave together.
      if (!started) start();
      else if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      if (!res.write(text)) {
        uncork();
        await waitForDrain(res);
      }
      if (res.destroyed) {
        stream.abort();
        return;
      }
    }
    if (!started) start();
    uncork();
    res.end();
  } catch (error) {
    uncork();
    if (res.destroyed) return;
    if (!started) throw error;
    if (OllamaStreamError.isInstance(error)) res.end();
    else res.destroy(error instanceof Error ? error : undefined);
  } finally {
    res.off('close', onClose);
  }
}
