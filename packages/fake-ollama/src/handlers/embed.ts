import { fakeEmbedding, fakeLegacyEmbedding } from '../answers.js';
import { expectType, HttpError, nowNs } from '../http.js';
import { answerDigest, touchModel } from './common.js';
import type { ModelCall } from './context.js';
import { beforeFirstByte, sendWhole } from './reply.js';
import { checkKeepAlive, findModel, optionsError, requireModel, requireModelName } from './validate.js';

/** Turns the `input` field into a list of strings, with Ollama's rules ("" means nothing to embed, [""] embeds ""). */
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

function wordCount(text: string): number {
  return Math.max(1, text.split(/\s+/).filter(Boolean).length);
}

/** POST /api/embed: deterministic L2-normalised vectors of the model's length (EmbedHandler, routes.go:795-1000). */
export async function handleEmbed(call: ModelCall): Promise<void> {
  const { body } = call;
  expectType(body, 'options', 'object', 'EmbedRequest');
  checkKeepAlive(body.keep_alive);
  const dims = body.dimensions;
  if (dims !== undefined && dims !== null && (typeof dims !== 'number' || !Number.isInteger(dims))) {
    const shown = typeof dims === 'number' ? `number ${dims}` : Array.isArray(dims) ? 'array' : typeof dims === 'boolean' ? 'bool' : typeof dims;
    throw new HttpError(400, `json: cannot unmarshal ${shown} into Go struct field EmbedRequest.dimensions of type int`);
  }
  const name = requireModelName(call, 'embed');
  const texts = inputs(body.input); // type-checked before the model is looked up (routes.go:820-852)
  const info = findModel(call, name, 'embed');
  const badOption = optionsError(body.options);
  if (badOption) throw new HttpError(500, badOption);
  touchModel(call, info);
  if (!(await beforeFirstByte(call))) return;
  if (texts.length === 0) {
    sendWhole(call, { model: name, embeddings: [] });
    return;
  }
  // Ollama truncates and re-normalises only when 0 < dimensions < native length (routes.go:983-992).
  const size = typeof dims === 'number' && dims > 0 && dims < info.embeddingLength ? dims : info.embeddingLength;
  const embeddings = texts.map((t) => fakeEmbedding(info.name, t, size, answerDigest(info)));
  const end = nowNs();
  sendWhole(call, {
    model: name,
    embeddings,
    total_duration: Math.max(1, Number(end - call.startNs)),
    load_duration: Math.max(1, Number(call.readyNs - call.startNs)),
    prompt_eval_count: texts.reduce((n, t) => n + wordCount(t), 0),
  });
}

/** POST /api/embeddings (legacy): `{"embedding": [...]}`, not normalised, no metrics (EmbeddingsHandler, routes.go:1042-1100). */
export async function handleEmbeddings(call: ModelCall): Promise<void> {
  const { body } = call;
  expectType(body, 'prompt', 'string', 'EmbeddingRequest');
  expectType(body, 'options', 'object', 'EmbeddingRequest');
  checkKeepAlive(body.keep_alive);
  const { info } = requireModel(call, 'embeddings');
  const badOption = optionsError(body.options);
  if (badOption) throw new HttpError(500, badOption);
  touchModel(call, info);
  if (!(await beforeFirstByte(call))) return;
  const prompt = typeof body.prompt === 'string' ? body.prompt : '';
  sendWhole(call, { embedding: prompt === '' ? [] : fakeLegacyEmbedding(info.name, prompt, answerDigest(info)) });
}
