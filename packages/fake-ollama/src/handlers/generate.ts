import { fakeAnswer, fakeContext, promptTokenCount } from '../answers.js';
import { expectType, rfc3339Nano } from '../http.js';
import type { ModelCall } from './context.js';
import { beforeFirstByte, type Metrics, sendReply, sendWhole } from './reply.js';
import { isUnload, requireModel } from './validate.js';

/** POST /api/generate: deterministic completion, streamed as NDJSON unless stream:false. */
export async function handleGenerate(call: ModelCall): Promise<void> {
  const { body } = call;
  for (const f of ['prompt', 'system', 'suffix', 'template']) expectType(body, f, 'string', 'GenerateRequest');
  expectType(body, 'context', 'array', 'GenerateRequest');
  expectType(body, 'options', 'object', 'GenerateRequest');
  const { name } = requireModel(call, 'generate');

  if (!body.prompt) {
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, {
      model: name,
      created_at: rfc3339Nano(),
      response: '',
      done: true,
      done_reason: isUnload(body.keep_alive) ? 'unload' : 'load',
    });
    return;
  }

  const answer = fakeAnswer(body, { answerTokens: call.settings.answerTokens });
  const pieces = [...answer.thinking.map((t) => ({ response: '', thinking: t })), ...answer.tokens.map((t) => ({ response: t }))];
  const tail = (m: Metrics): Record<string, unknown> => ({
    done: true,
    done_reason: answer.doneReason,
    ...(body.raw === true ? {} : { context: fakeContext(answer.hash, m.prompt_eval_count + m.eval_count) }),
    ...m,
  });
  await sendReply(call, {
    chunkCount: pieces.length,
    promptTokens: promptTokenCount(body),
    chunk: (i) => ({ model: name, created_at: rfc3339Nano(), ...pieces[i], done: false }),
    final: (m) => ({ model: name, created_at: rfc3339Nano(), response: '', ...tail(m) }),
    whole: (m) => ({
      model: name,
      created_at: rfc3339Nano(),
      response: answer.text,
      ...(answer.thinkingText ? { thinking: answer.thinkingText } : {}),
      ...tail(m),
    }),
  });
}
