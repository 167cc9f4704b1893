/**
 * One server of the proxy group, in its own process: `node --import tsx proxy-servers.ts <kind> [upstream] [store path]`.
 * It listens on a free loopback port and sends {port} to its parent over IPC; the parent kills it.
 *
 * The hit-like kinds answer the same stored bytes: the parent sends them the bytes of the proxy's
 * real cached answer before any round (until then ~2 KB of storedAnswer()), so rows differ only in
 * what the server does per request. The pass-through rows forward to a server answering storedAnswer().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A ~2 KB stored non-streaming generate answer: what the pass-through upstream gives, and the hit-like servers until told otherwise. */
export function storedAnswer(): Buffer {
  const words = 'the cache answers in microseconds what the model took seconds to write '.repeat(24);
  return Buffer.from(
    JSON.stringify({
      model: 'llama3.2',
      created_at: '2026-11-26T07:31:00.123456789Z',
      response: words.slice(0, 1750),
      done: true,
      done_reason: 'stop',
      total_duration: 2_345_678_901,
      load_duration: 12_345_678,
      prompt_eval_count: 41,
      prompt_eval_duration: 123_456_789,
      eval_count: 256,
      eval_duration: 2_123_456_789,
    }),
  );
}

/** The ~300 B request body every row sends (stream: true for the native streaming hit). */
export function requestBody(stream = false): string {
  return JSON.stringify({
    model: 'llama3.2',
    prompt: 'Explain in two sentences why a response cache in front of a local model saves GPU time and latency for repeated prompts.',
    system: 'You are a concise assistant.',
    stream,
    options: { temperature: 0, seed: 7, num_predict: 256, num_ctx: 4096 },
  });
}

/**
 * The bytes the hit-like servers answer: storedAnswer() until the parent sends the bytes of a real
 * cached answer (an {answer} message), so a floor answers exactly what the proxy's hit answers.
 */
let current = answering(storedAnswer(), 'application/json; charset=utf-8');

/** An answer with the headers a floor sends with it. */
function answering(answer: Buffer, contentType: string): { answer: Buffer; headers: { 'content-type': string; 'content-length': string } } {
  return { answer, headers: { 'content-type': contentType, 'content-length': String(answer.length) } };
}

/** What the parent sends to set the answer: its bytes (base64) and content type. */
interface AnswerMessage {
  answer: string;
  contentType: string;
}

/** The ~300 B body of the /v1 rows: the same question through Ollama's OpenAI-compatible layer. */
export function openaiBody(stream = false): string {
  return JSON.stringify({
    model: 'llama3.2',
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      { role: 'user', content: 'Explain in two sentences why a response cache in front of a local model saves GPU time and latency.' },
    ],
    temperature: 0,
    seed: 7,
    max_tokens: 256,
    ...(stream ? { stream: true } : {}),
  });
}

type Kind =
  | 'bare'
  | 'node-hit'
  | 'fastify-hit'
  | 'proxy-hit'
  | 'proxy-hit-quiet'
  | 'node-pass'
  | 'fastify-pass'
  | 'proxy-pass'
  | 'fake'
  | 'engine'
  | 'engine-sqlite';

async function nodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function start(kind: Kind, upstream: string | undefined): Promise<number> {
  switch (kind) {
    // The floor: ignores the body, writes the stored bytes.
    case 'bare':
      return nodeServer((req, res) => {
        req.resume();
        res.writeHead(200, current.headers);
        res.end(current.answer);
      });
    // node:http doing what a hit must: read the body, parse it, answer the stored bytes.
    case 'node-hit':
      return nodeServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string };
          if (body.model === undefined) res.writeHead(400).end();
          else {
            res.writeHead(200, current.headers);
            res.end(current.answer);
          }
        });
      });
    case 'fastify-hit': {
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
      app.post('/api/generate', async (request, reply) => {
        if ((request.body as { model?: string }).model === undefined) return reply.code(400).send();
        return reply.header('content-type', current.headers['content-type']).send(current.answer);
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as AddressInfo).port;
    }
    // The proxy shell with a hook answering a byte-identical body from memory: routing, controls,
    // body limit, CORS check, counters and one pino log line per request (to /dev/null), no key derivation.
    case 'proxy-hit':
    case 'proxy-hit-quiet':
    case 'proxy-pass': {
      const { createProxyLogger, startProxy } = await import('@tinyllm/proxy');
      const question = requestBody();
      // The logger `tinyllm serve` uses (one JSON line per request), writing to /dev/null.
      const logger = await createProxyLogger({
        level: kind === 'proxy-hit-quiet' || process.env.VARIANT === 'nolog' ? 'warn' : 'info',
        destination: '/dev/null',
      });
      const proxy = await startProxy({
        port: 0,
        upstream: upstream ?? 'http://127.0.0.1:9',
        logger,
        processMetrics: false,
        cachedRoutes: (request) => {
          if (request.body.toString('latin1') !== question) return request.passThrough();
          const answer = current.answer;
          request.setCacheResult('HIT');
          // Written at the end of the turn, as the engine writes a hit.
          request.writeAtTurnEnd(() => {
            request.res.writeHead(200, { 'content-type': current.headers['content-type'], 'content-length': answer.length, 'x-cache': 'HIT' });
            request.res.end(answer);
          });
        },
      });
      return proxy.port;
    }
    // A fake Ollama (no latency, ~2 KB answers), the upstream of the engine rows.
    case 'fake': {
      const { startFakeOllama } = await import('@tinyllm/fake-ollama');
      // Ollama (Go) does not hand its buffers back to the kernel after every GC; without this the
      // fake faulted a blob's pages back in on some runs and not others, and "direct" swung 2x.
      (await import('@tinyllm/proxy')).keepFreedMemoryForReuse();
      const fake = await startFakeOllama({ models: ['llama3.2:latest', 'qwen2.5:0.5b'], answerTokens: 250 });
      return fake.port;
    }
    // The real proxy, as `tinyllm serve` runs it: the cache engine on a memory store, one pino line
    // per request (to /dev/null), in front of the upstream.
    // The same on `tinyllm serve`'s default store, SQLite (a file the parent names and removes).
    case 'engine':
    case 'engine-sqlite': {
      const { createProxyLogger, startProxy } = await import('@tinyllm/proxy');
      const { ollamaResponseCache } = await import('@tinyllm/ollama-cached');
      const backend =
        kind === 'engine'
          ? new (await import('@tinyllm/cache-memory')).MemoryBackend({ maxSize: 100_000 })
          : new (await import('@tinyllm/cache-sqlite')).SqliteBackend({ path: storePath as string });
      const logger = await createProxyLogger({ level: process.env.VARIANT === 'nolog' ? 'warn' : 'info', destination: '/dev/null' });
      const proxy = await startProxy({
        port: 0,
        upstream: upstream as string,
        logger,
        processMetrics: false,
        cache: ollamaResponseCache(backend, {}),
      });
      return proxy.port;
    }
    // node:http + undici, the smallest faithful pass-through: stream the body up, the answer down.
    case 'node-pass': {
      const { Pool } = await import('undici');
      // The same allocator setting as the proxy's server (see keepFreedMemoryForReuse), so the row
      // shows what any pass-through costs, not glibc returning and re-faulting its buffers.
      (await import('@tinyllm/proxy')).keepFreedMemoryForReuse();
      const url = new URL(upstream as string);
      const pool = new Pool(url.origin, { headersTimeout: 0, bodyTimeout: 0 });
      return nodeServer((req, res) => {
        const headers: string[] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = (req.rawHeaders[i] as string).toLowerCase();
          if (name !== 'host' && name !== 'connection' && name !== 'keep-alive') headers.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
        }
        pool.dispatch(
          { method: req.method as 'POST', path: req.url ?? '/', headers, body: req },
          {
            // undici 7 takes a handler as the new API (controller-based) only when it has onRequestStart.
            onRequestStart() {},
            onResponseStart(_c, status, responseHeaders) {
              delete responseHeaders.connection;
              delete responseHeaders['keep-alive'];
              delete responseHeaders['transfer-encoding'];
              res.writeHead(status, responseHeaders);
            },
            onResponseData(controller, chunk) {
              if (!res.write(chunk)) {
                controller.pause();
                res.once('drain', () => controller.resume());
              }
            },
            onResponseEnd() {
              res.end();
            },
            onResponseError(_c, error) {
              if (!res.headersSent) res.writeHead(502).end(String(error));
              else res.destroy();
            },
          },
        );
      });
    }
    case 'fastify-pass': {
      const { default: Fastify } = await import('fastify');
      const { default: replyFrom } = await import('@fastify/reply-from');
      (await import('@tinyllm/proxy')).keepFreedMemoryForReuse();
      const app = Fastify({ logger: false });
      await app.register(replyFrom, { base: upstream as string, undici: { headersTimeout: 0, bodyTimeout: 0 } });
      // Bodies are forwarded as raw streams (no parsing), as a pass-through must.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      app.all('/*', (request, reply) => {
        reply.from(request.url);
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as AddressInfo).port;
    }
  }
}

const [kind, upstream, storePath] = process.argv.slice(2);
// Exit cleanly on SIGINT (a --cpu-prof run writes its profile then).
// The parent went away (killed at its timeout, say): nothing must outlive it.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
// CPU time used so far, in us: the parent divides a run's share by its request count.
process.on('message', (message: unknown) => {
  if (typeof message === 'object' && message !== null && 'answer' in message) {
    const { answer, contentType } = message as AnswerMessage;
    current = answering(Buffer.from(answer, 'base64'), contentType);
    process.send?.({ answerSet: current.answer.length });
  } else if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  }
});
start(kind as Kind, upstream)
  .then((port) => process.send?.({ port }))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
