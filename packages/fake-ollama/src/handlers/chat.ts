import { randomBytes } from 'node:crypto';
import { fakeAnswer, isRecord, promptTokenCount } from '../answers.js';
import { expectType, HttpError, rfc3339Nano } from '../http.js';
import { answerDigest, effectiveThink, joinedLogprobs, logprobsFor, messageImages, touchModel } from './common.js';
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

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random tool-call id of the form "call_xxxxxxxx", like Ollama's (routes.go:2305-2312). */
export function toolCallId(): string {
  const bytes = randomBytes(8);
  let id = 'call_';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/** POST /api/chat, with the checks in ChatHandler's order (routes.go:2440-2640). */
export async function handleChat(call: ModelCall): Promise<void> {
  const { body } = call;
  expectType(body, 'messages', 'array', 'ChatRequest');
  expectType(body, 'tools', 'array', 'ChatRequest');
  expectType(body, 'options', 'object', 'ChatRequest');
  expectType(body, 'logprobs', 'bool', 'ChatRequest');
  checkThink(body.think);
  checkKeepAlive(body.keep_alive);
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages) {
    if (!isRecord(m))
      throw new HttpError(400, `json: cannot unmarshal ${Array.isArray(m) ? 'array' : typeof m} into Go struct field ChatRequest.messages of type api.Message`);
    checkImages(m.images, 'ChatRequest.messages.images');
  }
  const imageCount = messageImages(messages).length;
  checkTopLogprobs(body, 'chat');
  const { name, info } = requireModel(call, 'chat');

  if (messages.length === 0 && isUnload(body.keep_alive)) {
    touchModel(call, info);
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, { model: name, created_at: rfc3339Nano(), message: { role: 'assistant', content: '' }, done: true, done_reason: 'unload' });
    return;
  }
  if (!info.capabilities.includes('thinking') && thinkOn(body.think)) throw new HttpError(400, `"${name}" does not support thinking`);
  if (!info.capabilities.includes('completion')) throw new HttpError(400, `"${name}" does not support chat`);
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length > 0) requireCapabilities(info, ['tools']);
  const badOption = optionsError(body.options);
  if (badOption) throw new HttpError(500, badOption);
  touchModel(call, info);

  if (messages.length === 0) {
    if (!(await beforeFirstByte(call))) return;
    sendWhole(call, { model: name, created_at: rfc3339Nano(), message: { role: 'assistant', content: '' }, done: true, done_reason: 'load' });
    return;
  }

  const asSeen = { ...body, think: effectiveThink(body, info) };
  const answer = fakeAnswer(asSeen, { answerTokens: call.settings.answerTokens, digest: answerDigest(info) });
  const toolCalls = answer.toolCall
    ? [{ id: toolCallId(), function: { index: 0, name: answer.toolCall.name, arguments: answer.toolCall.arguments } }]
    : undefined;
  const pieces: Array<{ message: Record<string, unknown>; text?: string }> = [
    ...answer.thinking.map((t) => ({ message: { role: 'assistant', content: '', thinking: t }, text: t })),
    ...answer.tokens.map((t) => ({ message: { role: 'assistant', content: t }, text: t })),
    ...(toolCalls ? [{ message: { role: 'assistant', content: '', tool_calls: toolCalls } }] : []),
  ];
  const badFormat = formatError(body.format);
  const runnerError = badFormat
    ? { status: 500, message: badFormat }
    : imageCount > 0 && !info.capabilities.includes('vision')
      ? { status: 400, message: NO_VISION_ERROR }
      : undefined;
  // ChatResponse field order: message, done, done_reason, logprobs, then the embedded Metrics.
  const tail = (m: Metrics, logprobs: Record<string, unknown> = {}): Record<string, unknown> => ({
    done: true,
    done_reason: answer.doneReason,
    ...logprobs,
    ...m,
  });
  await sendReply(call, {
    chunkCount: pieces.length,
    promptTokens: promptTokenCount(body),
    runnerError,
    chunk: (i) => {
      const piece = pieces[i];
      const logprobs = piece?.text === undefined ? {} : logprobsFor(call, piece.text, answer.hash);
      return { model: name, created_at: rfc3339Nano(), message: piece?.message, done: false, ...logprobs };
    },
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
      ...tail(
        m,
        joinedLogprobs(
          call,
          pieces.flatMap((p) => (p.text === undefined ? [] : [p.text])),
          answer.hash,
        ),
      ),
    }),
  });
}
