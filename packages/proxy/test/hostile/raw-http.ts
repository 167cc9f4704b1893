/**
 * A raw HTTP/1.1 client for hostile requests: it writes exactly the bytes it is given (no header
 * checks, no framing of its own) and parses whatever comes back, however many responses.
 */
import { connect, type Socket } from 'node:net';

/** One response as parsed from the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What came back on one connection. */
export interface RawExchange {
  /** Every final response, in order (100 Continue skipped). */
  responses: RawResponse[];
  /** Every byte received. */
  raw: Buffer;
  /** True when the proxy closed or reset the connection (rather than our deadline ending it). */
  closedByServer: boolean;
}

/** A step of a scripted exchange: bytes to write, a pause, or a hard reset of the connection. */
export type Step = string | Buffer | { pauseMs: number } | { reset: true } | { endWrite: true } | { waitForBytes: number } | { hook: string };

/** Parses consecutive HTTP/1.1 responses out of raw bytes (Content-Length, chunked, or until close). */
export function parseResponses(raw: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const head = raw.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) {
        const name = line.slice(0, colon).trim().toLowerCase();
        headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
      }
    }
    at = end + 4;
    if (status === 100) continue;
    let body: Buffer;
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = raw.subarray(at, at + length);
      at += length;
    } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', at);
        if (lineEnd === -1) {
          at = raw.length;
          break;
        }
        const size = Number.parseInt(raw.toString('latin1', at, lineEnd), 16);
        at = lineEnd + 2;
        if (!(size > 0)) {
          at = Math.min(raw.length, at + 2);
          break;
        }
        parts.push(raw.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else {
      body = raw.subarray(at);
      at = raw.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}

/**
 * Opens a connection, plays the steps, then reads until the server closes the connection or
 * `deadlineMs` passes (then the client closes it). `{ hook }` steps wait for the named hook.
 * Never rejects: a reset is a closed connection.
 */
export function exchange(url: string, steps: readonly Step[], deadlineMs = 10_000, hooks: Record<string, () => Promise<void>> = {}): Promise<RawExchange> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    let received = 0;
    const byteWaiters: Array<{ count: number; resolve: () => void }> = [];
    const socket: Socket = connect({ host: target.hostname, port: Number(target.port) });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      for (const waiter of byteWaiters.splice(0)) waiter.resolve();
      const raw = Buffer.concat(chunks);
      resolve({ responses: parseResponses(raw), raw, closedByServer });
    };
    const timer = setTimeout(finish, deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      for (const waiter of [...byteWaiters]) {
        if (received >= waiter.count) {
          byteWaiters.splice(byteWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      if (!done) closedByServer = true;
      finish();
    });
    socket.once('connect', async () => {
      for (const step of steps) {
        if (done) return;
        if (typeof step === 'string' || Buffer.isBuffer(step)) {
          if (!socket.write(step)) await new Promise<void>((r) => socket.once('drain', () => r()).once('close', () => r()));
        } else if ('pauseMs' in step) {
          await new Promise((r) => setTimeout(r, step.pauseMs));
        } else if ('waitForBytes' in step) {
          if (received < step.waitForBytes) await new Promise<void>((r) => byteWaiters.push({ count: step.waitForBytes, resolve: r }));
        } else if ('hook' in step) {
          const hook = hooks[step.hook];
          if (hook === undefined) throw new Error(`no hook ${step.hook}`);
          await hook();
        } else if ('endWrite' in step) {
          socket.end();
        } else {
          socket.resetAndDestroy();
          finish();
          return;
        }
      }
    });
  });
}

/** A request's bytes: the request line, the headers as given (in order, unchecked), and the body. */
export function rawRequest(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>, body: string | Buffer = ''): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}
