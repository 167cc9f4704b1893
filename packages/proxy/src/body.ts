/** Reading a cached route's request body into memory, up to a limit. */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './errors.js';

/** The client went away (or its connection broke) while sending its body: nothing is answered. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away before sending its whole request');
    this.name = 'ClientGoneError';
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads the whole body. A declared Content-Length over the limit is refused before any byte is read;
 * a body that grows past it is refused as soon as it does. Rejects with BodyTooLargeError, or
 * ClientGoneError when the client aborts.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) return Promise.reject(new BodyTooLargeError(limitBytes));
  if (req.complete) return Promise.resolve(EMPTY);
  return new Promise<Buffer>((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limitBytes) {
        cleanup();
        req.pause();
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      if (first === undefined) first = chunk;
      else if (chunks === undefined) chunks = [first, chunk];
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks !== undefined ? Buffer.concat(chunks, total) : (first ?? EMPTY));
    };
    const onGone = (): void => {
      cleanup();
      reject(new ClientGoneError());
    };
    const onClose = (): void => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onClose);
  });
}
