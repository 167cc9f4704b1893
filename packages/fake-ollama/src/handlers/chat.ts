import { randomBytes } from 'node:crypto';
import { fakeAnswer, promptTokenCount } from '../answers.js';
import { expectType, rfc3339Nano } from '../http.js';
import type { ModelCall } from './context.js';
import { beforeFirstByte, type Metrics, sendReply, sendWhole } from './reply.js';
import { isUnload, requireModel } from './validate.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random tool-call id of the form "call_xxxxxxxx", like Ollama's. */
export function toolCallId(): string {
  const bytes = randomBytes(8);
  let id = 'call_';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/** POST /api/chat: deterministic assistant message (or a tool call), streamed as NDJSON unless stream:false. */
export async function handleChat(call: ModelCall): Promise<void> {
  const { body } = call;
  expectType(body, 'messages', 'array', 'ChatRequest');
  expectType(body, 'tools', 'array', 'ChatRequest');
  expectType(body, 'options', 'object', 'ChatRequest');
  const { name } = requireModel(call, 'chat');
  const messages = Array.isArray(body.messages) ? body.messages : [];

  if (messages.length === 0) {
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, {
      model: name,
      created_at: rfc3339Nano(),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: isUnload(body.keep_alive) ? 'unload' : 'load',
    });
    return;
  }

  const answer = fakeAnswer(body, { answerTokens: call.settings.answerTokens });
  const toolCalls = answer.toolCall
    ? [{ id: toolCallId(), function: { index: 0, name: answer.toolCall.name, arguments: answer.toolCall.arguments } }]
    : undefined;
  const pieces: Array<Record<string, unknown>> = [
    ...answer.thinking.map((t) => ({ role: 'assistant', content: '', thinking: t })),
    ...answer.tokens.map((t) => ({ role: 'assistant', content: t })),
    ...(toolCalls ? [{ role: 'assistant', content: '', tool_calls: toolCalls }] : []),
  ];
  const tail = (m: Metrics): Record<string, unknown> => ({ done: true, done_reason: answer.doneReason, ...m });
  await sendReply(call, {
    chunkCount: pieces.length,
    promptTokens: promptTokenCount(body),
    chunk: (i) => ({ model: name, created_at: rfc3339Nano(), message: pieces[i], done: false }),
    final: (m) => ({ model: name, created_at: rfc3339Nano(), message: { role: 'assistant', content: '' }, ...tail(m) }),
    whole: (m) => ({
      model: name,
      created_at: rfc3339Nano(),
      message: {
        role: 'assistant',
        content: answer.text,
        ...(answer.thinkingText ? { thinking: answer.thinkingText } : {}),
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
      },
      ...tail(m),
    }),
  });
}
