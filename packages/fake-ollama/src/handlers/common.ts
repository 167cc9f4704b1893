import { fakeLogprobs, isRecord } from '../answers.js';
import type { ModelInfo } from '../models.js';
import type { ModelCall } from './context.js';
import { goDurationSeconds, thinkOn } from './validate.js';

/** The digest to mix into answers: only once it differs from the name-derived one, so default answers stay predictable. */
export function answerDigest(info: ModelInfo): string | undefined {
  return info.digest === info.baseDigest ? undefined : info.digest;
}

/**
 * `think` as Ollama's handlers see it: a thinking model with `think` unset thinks
 * (routes.go:453-463, 2615-2632). The caller has already refused `think` on other models.
 */
export function effectiveThink(body: Record<string, unknown>, info: ModelInfo): unknown {
  if (info.capabilities.includes('thinking') && (body.think === undefined || body.think === null)) return true;
  return body.think;
}

/** Whether the request asked for thinking once defaults are applied. */
export function thinks(body: Record<string, unknown>, info: ModelInfo): boolean {
  return thinkOn(effectiveThink(body, info));
}

/** The `logprobs` field for one streamed piece, or nothing when the request did not ask for logprobs. */
export function logprobsFor(call: ModelCall, piece: string, seed: string): Record<string, unknown> {
  if (call.body.logprobs !== true) return {};
  const top = typeof call.body.top_logprobs === 'number' ? call.body.top_logprobs : 0;
  return { logprobs: fakeLogprobs(piece, seed, top) };
}

/** Joins the logprobs of every piece for a stream:false answer (Ollama accumulates them). */
export function joinedLogprobs(call: ModelCall, pieces: string[], seed: string): Record<string, unknown> {
  if (call.body.logprobs !== true) return {};
  const top = typeof call.body.top_logprobs === 'number' ? call.body.top_logprobs : 0;
  return { logprobs: pieces.flatMap((p) => fakeLogprobs(p, seed, top)) };
}

/** Counts images on a chat request's messages. */
export function messageImages(messages: unknown[]): unknown[] {
  return messages.flatMap((m) => (isRecord(m) && Array.isArray(m.images) ? m.images : []));
}

/** Records that a call loaded (or, with keep_alive 0, unloaded) its model, for /api/ps. */
export function touchModel(call: ModelCall, info: ModelInfo): void {
  const keepAlive = call.body.keep_alive;
  let seconds = 300;
  if (typeof keepAlive === 'number') seconds = keepAlive;
  else if (typeof keepAlive === 'string') seconds = goDurationSeconds(keepAlive);
  if (seconds === 0) call.settings.loaded.delete(info.key);
  else call.settings.loaded.set(info.key, { info, expiresAtMs: seconds < 0 ? Number.POSITIVE_INFINITY : Date.now() + seconds * 1000 });
}
