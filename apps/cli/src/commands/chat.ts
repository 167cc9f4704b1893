import { type AnswerFlags, answerOne } from '../answer-one.js';
import { type ChatMessage, parseConversation } from '../chat-input.js';
import { type ExitCode, UsageError } from '../errors.js';
import type { CommandContext } from '../program.js';
import { readImage, readInput } from '../read-input.js';

/** Options of `tinyllm chat` (besides the store options in the context). */
export interface ChatOptions extends AnswerFlags {
  /** --messages: the conversation so far, a JSON array or JSON lines ("-" = stdin). */
  messages?: string;
}

/** The conversation to send: the file's messages, then the message argument as a user turn, with --system in front. */
export function buildConversation(history: ChatMessage[], message: string | undefined, system: string | undefined): ChatMessage[] {
  const messages: ChatMessage[] = history.map((m) => ({ ...m }));
  if (message !== undefined) messages.push({ role: 'user', content: message });
  if (system !== undefined) {
    if (messages[0]?.role === 'system') {
      throw new UsageError('--system and the system message the conversation starts with: give one of them.');
    }
    messages.unshift({ role: 'system', content: system });
  }
  return messages;
}

/** Where --image goes: the last user message (a usage error when there is none). */
export function imageTarget(messages: readonly ChatMessage[]): number {
  const last = messages.findLastIndex((m) => m.role === 'user');
  if (last < 0)
    throw new UsageError('--image goes with a user message, and the conversation has none: add one (tinyllm chat --image cat.png "What is this?").');
  return last;
}

/** `tinyllm chat [MESSAGE]`: one answer to a conversation, from the cache when it is there, streamed on a terminal. */
export async function chatCommand(messageArg: string | undefined, options: ChatOptions, context: CommandContext): Promise<ExitCode> {
  if (messageArg === undefined && options.messages === undefined) {
    throw new UsageError('nothing to send: give a message (tinyllm chat "Hi") or a conversation (tinyllm chat --messages chat.jsonl).');
  }
  if (messageArg === '-' && options.messages === '-') {
    throw new UsageError('the message and --messages both read stdin ("-"): give one of them as a file or an argument.');
  }
  const history =
    options.messages === undefined
      ? []
      : parseConversation(await readInput(options.messages, 'the conversation'), options.messages === '-' ? 'stdin' : options.messages);
  const message = messageArg === '-' ? await readInput('-', 'the message') : messageArg;
  if (message !== undefined && message.trim() === '') throw new UsageError('the message is empty: give the question as an argument, e.g. tinyllm chat "Hi"');
  const messages = buildConversation(history, message, options.system);
  const paths = options.image ?? [];
  if (paths.length > 0) {
    const at = imageTarget(messages);
    const target = messages[at] as ChatMessage;
    messages[at] = { ...target, images: [...(target.images ?? []), ...(await Promise.all(paths.map(readImage)))] };
  }
  return answerOne({ kind: 'chat', request: { model: options.model, messages } }, options, context);
}
