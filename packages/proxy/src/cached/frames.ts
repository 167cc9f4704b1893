/**
 * Splitting a streamed answer into its events as the bytes arrive: Ollama's NDJSON (one JSON
 * object per line) and the Server-Sent Events of its /v1 layer (`data: ...` blocks ended by a
 * blank line). Bytes are joined before decoding, so a character split across two network chunks
 * is never mangled. And the other way: a chunk's text on the wire (chunkText).
 */
import { type EndpointProfile, frameFor, isDoneEvent, type JsonObject, likeGo } from '@tinyllm/ollama-cached/engine';

/** A chunk as the wire carries it (JSON escaped as Go writes it): an NDJSON line, or (/v1) its SSE frame, or undefined when the caller gets no frame for it (a usage frame nobody asked for). */
export function chunkText(profile: EndpointProfile, chunk: JsonObject, openai: boolean, includeUsage: boolean): string | undefined {
  if (!openai) return `${likeGo(JSON.stringify(chunk))}\n`;
  const frame = frameFor(profile, chunk, includeUsage);
  if (frame === undefined) return undefined;
  return isDoneEvent(frame) ? 'data: [DONE]\n\n' : `data: ${likeGo(JSON.stringify(frame))}\n\n`;
}

const NEWLINE = 0x0a;

/** Yields each complete line (without its `\n`, a trailing `\r` removed) as text; a last line without `\n` too. */
export async function* lines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  let pending: Buffer | undefined;
  for await (const piece of source) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (pending !== undefined) {
      chunk = Buffer.concat([pending, chunk]);
      pending = undefined;
    }
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      yield trimCr(chunk.toString('utf8', start, end));
      start = end + 1;
    }
    if (start < chunk.length) pending = Buffer.from(chunk.subarray(start));
  }
  if (pending !== undefined && pending.length > 0) yield trimCr(pending.toString('utf8'));
}

const trimCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);

/**
 * Yields the data of each Server-Sent Event: the `data:` lines of a block joined with `\n` (one
 * leading space after the colon removed, as the SSE spec says). Comments and other fields are
 * skipped; a block without data yields nothing.
 */
export async function* sseData(source: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  let data: string[] = [];
  for await (const line of lines(source)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5));
    }
  }
  if (data.length > 0) yield data.join('\n');
}
