import { fakeEmbedding } from '../answers.js';
import { HttpError, nowNs } from '../http.js';
import type { ModelCall } from './context.js';
import { beforeFirstByte, sendWhole } from './reply.js';
import { requireModel } from './validate.js';

/** Embedding size when the request sets no `dimensions`. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 8;

/** The largest `dimensions` accepted. */
export const MAX_EMBEDDING_DIMENSIONS = 65_536;

/** Turns the `input` field into a list of strings, with Ollama's rules ("" and [] mean nothing to embed). */
function inputs(input: unknown): string[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return input.length > 0 ? [input] : [];
  if (Array.isArray(input)) {
    return input.map((v) => {
      if (typeof v !== 'string') throw new HttpError(400, 'invalid input type');
      return v;
    });
  }
  throw new HttpError(400, 'invalid input type');
}

/** POST /api/embed: deterministic L2-normalised vectors. */
export async function handleEmbed(call: ModelCall): Promise<void> {
  const { body } = call;
  const { name } = requireModel(call, 'embed');
  const texts = inputs(body.input);
  const dims = body.dimensions;
  if (dims !== undefined && dims !== null && dims !== 0) {
    if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 0 || dims > MAX_EMBEDDING_DIMENSIONS) {
      throw new HttpError(400, `dimensions must be an integer between 1 and ${MAX_EMBEDDING_DIMENSIONS}`);
    }
  }
  if (!(await beforeFirstByte(call))) return;
  if (texts.length === 0) {
    sendWhole(call, { model: name, embeddings: [] });
    return;
  }
  const size = typeof dims === 'number' && dims > 0 ? dims : DEFAULT_EMBEDDING_DIMENSIONS;
  const embeddings = texts.map((t) => fakeEmbedding(name, t, size));
  const end = nowNs();
  sendWhole(call, {
    model: name,
    embeddings,
    total_duration: Math.max(1, Number(end - call.startNs)),
    load_duration: Math.max(1, Number(call.readyNs - call.startNs)),
    prompt_eval_count: texts.reduce((n, t) => n + Math.max(1, t.split(/\s+/).filter(Boolean).length), 0),
  });
}
