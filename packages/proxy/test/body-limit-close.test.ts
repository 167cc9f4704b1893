import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useStack } from './helpers.js';

const LIMIT = 64 * 1024;
const stack = useStack({}, { bodyLimitBytes: LIMIT });

/**
 * Sends a POST whose body is far over the limit, as most HTTP clients do: the whole body first,
 * reading the answer only after that (or once the connection breaks). Resolves with what came back.
 */
function overLimit(url: string, bodyBytes: number, chunked: boolean): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('error', () => {}); // EPIPE / ECONNRESET: what was read so far is the result
    socket.pause();
    const read = (): void => {
      socket.on('data', (text: string) => {
        answer += text;
      });
      socket.resume();
    };
    socket.on('close', () => resolve(answer));
    const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${bodyBytes}`;
    socket.write(`POST /api/generate HTTP/1.1\r\nHost: localhost\r\n${framing}\r\n\r\n`);
    const piece = Buffer.alloc(256 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < bodyBytes && !socket.destroyed) {
        sent += piece.length;
        const data = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        if (!socket.write(data)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!socket.destroyed) socket.end();
      read();
    };
    pump();
  });
}

describe('a body over the limit: the 413 reaches a client that is still sending', () => {
  // Without a lingering close the proxy's close meets unread bytes, the kernel resets the
  // connection, and the client loses the 413 it had not read yet.
  for (const chunked of [false, true]) {
    it(`${chunked ? 'chunked' : 'Content-Length'}: 10 rounds of 16 MiB, every one answered 413 and closed`, async () => {
      for (let round = 0; round < 10; round++) {
        const answer = await overLimit(stack.proxy.url, 16 * 1024 * 1024, chunked);
        expect(answer.slice(0, 40), `round ${round}`).toMatch(/^HTTP\/1\.1 413 /);
        expect(answer).toContain('Connection: close');
      }
    });
  }
});
