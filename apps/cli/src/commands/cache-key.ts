import { normalizeModelName } from '@tinyllm/cache-core';
import { requestCacheKey } from '@tinyllm/ollama-cached';
import type { AnswerFlags } from '../answer-one.js';
import { EXIT, type ExitCode, UsageError } from '../errors.js';
import { modelFields } from '../model-options.js';
import type { Output } from '../output.js';
import { readImage, readInput } from '../read-input.js';
import { buildRequest } from './run.js';

/** `tinyllm cache-key PROMPT`: the key a `tinyllm run` with the same prompt and flags reads and writes (no model is asked, no store opened). */
export async function cacheKeyCommand(promptArg: string, options: AnswerFlags, output: Output): Promise<ExitCode> {
  const prompt = promptArg === '-' ? await readInput('-', 'the prompt') : promptArg;
  if (prompt.trim() === '') throw new UsageError('the prompt is empty: give the same prompt as to tinyllm run');
  const images = await Promise.all((options.image ?? []).map(readImage));
  // The request exactly as run sends it: the same builder and the same model fields.
  const request = { ...buildRequest(prompt, options, images), ...modelFields(options) };
  const key = await requestCacheKey('generate', request);
  if (options.output === 'json') output.json({ key, endpoint: 'generate', model: normalizeModelName(options.model) });
  else output.line(key);
  return EXIT.ok;
}
