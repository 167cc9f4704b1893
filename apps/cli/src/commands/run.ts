import { type AnswerFlags, answerOne } from '../answer-one.js';
import type { JsonObject } from '../client.js';
import { type ExitCode, UsageError } from '../errors.js';
import type { CommandContext } from '../program.js';
import { readImage, readInput } from '../read-input.js';

/** Options of `tinyllm run` (besides the store options in the context). */
export type RunOptions = AnswerFlags;

/** Builds the generate request from the prompt, --system and the images (base64); the model flags are added by answerOne. */
export function buildRequest(
  prompt: string,
  options: Pick<RunOptions, 'model' | 'system'>,
  images: string[] = [],
): JsonObject & { model: string; prompt: string } {
  const request: JsonObject & { model: string; prompt: string } = { model: options.model, prompt };
  if (options.system !== undefined) request.system = options.system;
  if (images.length > 0) request.images = images;
  return request;
}

/** `tinyllm run PROMPT`: one answer, from the cache when it is there, streamed on a terminal. */
export async function runCommand(promptArg: string, options: RunOptions, context: CommandContext): Promise<ExitCode> {
  const prompt = promptArg === '-' ? await readInput('-', 'the prompt') : promptArg;
  if (prompt.trim() === '') throw new UsageError('the prompt is empty: give the question as an argument, e.g. tinyllm run "Why is the sky blue?"');
  const images = await Promise.all((options.image ?? []).map(readImage));
  return answerOne({ kind: 'generate', request: buildRequest(prompt, options, images) }, options, context);
}
