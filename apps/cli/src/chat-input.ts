import { UsageError } from './errors.js';

/** One chat message, in Ollama's shape. */
export interface ChatMessage {
  /** system, user, assistant or tool. */
  role: string;
  /** The text. */
  content: string;
  /** Images (file paths or base64), for vision models. */
  images?: string[];
  /** Any other field Ollama takes on a message (thinking, tool_calls, tool_name). */
  [field: string]: unknown;
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const FIELDS = new Set(['role', 'content', 'images', 'thinking', 'tool_calls', 'tool_name']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one message; returns why it is not one, or undefined. */
function problemOf(value: unknown): string | undefined {
  if (!isObject(value)) return 'a message must be an object such as {"role": "user", "content": "Hi"}';
  const unknown = Object.keys(value).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`;
  if (typeof value.role !== 'string' || !ROLES.has(value.role)) {
    return `"role" must be system, user, assistant or tool${typeof value.role === 'string' ? ` (not "${value.role}")` : ''}`;
  }
  if (typeof value.content !== 'string') return '"content" must be a string';
  if (value.images !== undefined && (!Array.isArray(value.images) || value.images.some((image) => typeof image !== 'string'))) {
    return '"images" must be an array of file paths or base64 strings';
  }
  return undefined;
}

/**
 * Parses a conversation: a JSON array of messages, or JSON lines with one message each (blank
 * lines skipped). A bad message is a usage error naming its position (line, or index in the array)
 * and what is wrong; `source` names the input in messages ("chat.jsonl", "stdin").
 */
export function parseConversation(text: string, source: string): ChatMessage[] {
  const fail = (where: string, problem: string): never => {
    throw new UsageError(`the conversation in ${source}, ${where}: ${problem}`);
  };
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`the conversation in ${source} is empty: give messages such as {"role": "user", "content": "Hi"}, one per line`);
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return fail('the JSON array', `invalid JSON (${(error as Error).message})`);
    }
    const messages = parsed as unknown[];
    if (messages.length === 0) throw new UsageError(`the conversation in ${source} is an empty array: it needs at least one message`);
    messages.forEach((message, i) => {
      const problem = problemOf(message);
      if (problem !== undefined) fail(`message ${i + 1}`, problem);
    });
    return messages as ChatMessage[];
  }
  const messages: ChatMessage[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      fail(`line ${index + 1}`, `invalid JSON (${(error as Error).message}); each line must be one message such as {"role": "user", "content": "Hi"}`);
    }
    const problem = problemOf(parsed);
    if (problem !== undefined) fail(`line ${index + 1}`, problem);
    messages.push(parsed as ChatMessage);
  });
  return messages;
}
