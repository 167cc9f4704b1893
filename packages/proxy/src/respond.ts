/** How the proxy writes its own answers: errors in the route's API shape, and small JSON bodies. */
import type { ServerResponse } from 'node:http';
import { likeGo } from '@tinyllm/ollama-cached/engine';
import type { ApiFlavor } from './routes.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** OpenAI's error `type` for a status, as Ollama's /v1 layer maps it (openai/openai.go). */
export function openAiErrorType(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

/** The error body of a route: Ollama's `{"error":"..."}` or, on /v1, OpenAI's `{"error":{message,type,param,code}}`, escaped as Go writes JSON. */
export function errorBody(status: number, message: string, api: ApiFlavor): string {
  return likeGo(
    api === 'openai' ? JSON.stringify({ error: { message, type: openAiErrorType(status), param: null, code: null } }) : JSON.stringify({ error: message }),
  );
}

/** Answers with a JSON body (unless the response has started; then the connection is cut so the client sees the failure). */
export function sendJson(res: ServerResponse, status: number, text: string, extraHeaders?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), ...extraHeaders });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

/** Answers an error in the route's API shape. */
export function sendError(res: ServerResponse, status: number, message: string, api: ApiFlavor, extraHeaders?: Record<string, string>): void {
  sendJson(res, status, errorBody(status, message, api), extraHeaders);
}

/** Answers with no body at all (the 403 and 204 of Ollama's CORS and Host guards carry none). */
export function sendEmpty(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Like Go's net/http: an empty answer says Content-Length: 0 (204 never carries one).
  res.writeHead(status, status === 204 ? headers : { 'Content-Length': '0', ...headers });
  res.end();
}
