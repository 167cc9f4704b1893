import { fakeAnswer, fakeContext, promptTokenCount } from '../answers.js';
import { expectType, HttpError, rfc3339Nano } from '../http.js';
import { answerDigest, effectiveThink, joinedLogprobs, logprobsFor, touchModel } from './common.js';
import type { ModelCall } from './context.js';
import { beforeFirstByte, type Metrics, sendReply, sendWhole } from './reply.js';
import {
  checkImages,
  checkKeepAlive,
  checkThink,
  checkTopLogprobs,
  formatError,
  isUnload,
  NO_VISION_ERROR,
  optionsError,
  requireCapabilities,
  requireModel,
  thinkOn,
} from './validate.js';

/** POST /api/generate, with the checks in GenerateHandler's order (routes.go:245-470). */
export async function handleGenerate(call: ModelCall): Promise<void> {
  const { body } = call;
  for (const f of ['prompt', 'system', 'suffix', 'template']) expectType(body, f, 'string', 'GenerateRequest');
  expectType(body, 'context', 'array', 'GenerateRequest');
  expectType(body, 'options', 'object', 'GenerateRequest');
  expectType(body, 'raw', 'bool', 'GenerateRequest');
  expectType(body, 'logprobs', 'bool', 'GenerateRequest');
  checkThink(body.think);
  checkKeepAlive(body.keep_alive);
  const imageCount = checkImages(body.images, 'GenerateRequest.images');
  checkTopLogprobs(body, 'generate');
  const { name, info } = requireModel(call, 'generate');

  if (!body.prompt && isUnload(body.keep_alive)) {
    touchModel(call, info);
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, { model: name, created_at: rfc3339Nano(), response: '', done: true, done_reason: 'unload' });
    return;
  }
  const hasContext = Array.isArray(body.context) && body.context.length > 0;
  if (body.raw === true && (body.template || body.system || hasContext)) {
    throw new HttpError(400, 'raw mode does not support template, system, or context');
  }
  if (!info.capabilities.includes('thinking') && thinkOn(body.think)) throw new HttpError(400, `"${name}" does not support thinking`);
  if (!info.capabilities.includes('completion')) throw new HttpError(400, `"${name}" does not support generate`);
  if (body.suffix) requireCapabilities(info, ['insert']);
  const badOption = optionsError(body.options);
  if (badOption) throw new HttpError(500, badOption);
  touchModel(call, info);

  if (!body.prompt) {
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, { model: name, created_at: rfc3339Nano(), response: '', done: true, done_reason: 'load' });
    return;
  }

  const asSeen = { ...body, think: effectiveThink(body, info) };
  const answer = fakeAnswer(asSeen, { answerTokens: call.settings.answerTokens, digest: answerDigest(info) });
  const pieces = [...answer.thinking.map((t) => ({ response: '', thinking: t, text: t })), ...answer.tokens.map((t) => ({ response: t, text: t }))];
  const badFormat = formatError(body.format);
  const runnerError = badFormat
    ? { status: 500, message: badFormat }
    : imageCount > 0 && !info.capabilities.includes('vision')
      ? { status: 400, message: NO_VISION_ERROR }
      : undefined;
  // GenerateResponse field order: done, done_reason, context, logprobs, then the embedded Metrics.
  const tail = (m: Metrics, logprobs: Record<string, unknown> = {}): Record<string, unknown> => ({
    done: true,
    done_reason: answer.doneReason,
    ...(body.raw === true ? {} : { context: fakeContext(answer.hash, m.prompt_eval_count + m.eval_count) }),
    ...logprobs,
    ...m,
  });
  await sendReply(call, {
    chunkCount: pieces.length,
    promptTokens: promptTokenCount(body),
    runnerError,
    chunk: (i) => {
      const { text, ...piece } = pieces[i] ?? { response: '', text: '' };
      return { model: name, created_at: rfc3339Nano(), ...piece, done: false, ...logprobsFor(call, text, answer.hash) };
    },
    final: (m) => ({ model: name, created_at: rfc3339Nano(), response: '', ...tail(m) }),
    whole: (m) => ({
      model: name,
      created_at: rfc3339Nano(),
      response: answer.text,
      ...(answer.thinkingText ? { thinking: answer.thinkingText } : {}),
      ...tail(
        m,
        joinedLogprobs(
          call,
          pieces.map((p) => p.text),
          answer.hash,
        ),
      ),
    }),
  });
}
