import { request } from 'node:http';
/** Shared helpers for the fake-ollama tests (real HTTP, no mocks). */

/** POSTs JSON to `url + path` and returns the raw fetch Response. */
export function post(url: string, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/** Reads a whole NDJSON body and parses every line (throws if a line is not JSON or the body does not end with "\n"). */
export async function ndjson(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`NDJSON body does not end with a newline: ${JSON.stringify(text.slice(-40))}`);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Resolves after `ms` milliseconds. */
export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a raw HTTP exchange returned. */
export interface RawResponse {
  /** Status code. */
  status: number;
  /** Response headers (lower-cased names; repeated headers as arrays). */
  headers: Record<string, string | string[] | undefined>;
  /** The body as text. */
  body: string;
}

/** One HTTP request over node:http, so Host, Origin and any method can be set exactly as a client would. */
export function raw(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // An explicit Content-Length: Node would otherwise send a DELETE body unframed.
    const headers = { ...(init.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(init.body)) }), ...init.headers };
    const req = request({ host: hostname, port, path, method: init.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Splits an SSE body into its `data:` payloads (throws on any other framing). */
export function sseData(body: string): string[] {
  if (!body.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(body.slice(-40))}`);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      if (!event.startsWith('data: ')) throw new Error(`not a data event: ${JSON.stringify(event)}`);
      return event.slice(6);
    });
}
