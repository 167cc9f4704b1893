import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parseMaxTokens, parseNumCtx, parseSeed, parseTemperature, parseTopP } from './config.js';
import { UsageError } from './errors.js';

/** A JSON object as Ollama takes it. */
export type JsonObject = { [key: string]: unknown };

/** One `--option key=value`, parsed. */
export interface ModelOption {
  /** The key of Ollama's `options` object, e.g. "repeat_penalty". */
  key: string;
  /** The typed value: a number, a boolean, or any JSON value. */
  value: unknown;
}

/** Ollama's `think`: on, off, or a level (models that support levels). */
export type Think = boolean | 'low' | 'medium' | 'high';

/** The model flags run and chat share, as commander parsed them. */
export interface ModelFlags {
  /** --temperature. */
  temperature?: number;
  /** --max-tokens (num_predict). */
  maxTokens?: number;
  /** --seed. */
  seed?: number;
  /** --top-p. */
  topP?: number;
  /** --num-ctx. */
  numCtx?: number;
  /** --option key=value, in the order given. */
  option?: ModelOption[];
  /** --json: format "json". */
  json?: boolean;
  /** --format: "json" or a JSON schema. */
  format?: 'json' | JsonObject;
  /** --think. */
  think?: Think;
}

// The options that have a flag of their own: `--option temperature=0.5` goes through the same check.
const DEDICATED: Record<string, { flag: string; parse: (value: string) => number }> = {
  temperature: { flag: '--temperature', parse: parseTemperature },
  num_predict: { flag: '--max-tokens', parse: parseMaxTokens },
  seed: { flag: '--seed', parse: parseSeed },
  top_p: { flag: '--top-p', parse: parseTopP },
  num_ctx: { flag: '--num-ctx', parse: parseNumCtx },
};

const KEY = /^[a-z][a-z0-9_]*$/i;

/** The value of --option: JSON when it parses (numbers, booleans, arrays, objects, "strings"), else the text as a string. */
function typedValue(key: string, text: string): unknown {
  const dedicated = DEDICATED[key];
  if (dedicated !== undefined) {
    // The same check (and message) as the flag's.
    return dedicated.parse(text);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidArgumentError(`${key} has no value: give one, e.g. --option ${key}=1.1.`);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    // A bare word (stop=END) is a string; something that was meant to be JSON and is not, an error.
    if (/^[[{"]/.test(trimmed)) throw new InvalidArgumentError(`${key}: invalid JSON (${(error as Error).message}).`);
    return text;
  }
  if (value === null) throw new InvalidArgumentError(`${key}=null means "not set": leave the option out instead.`);
  return value;
}

/** --option key=value (repeatable): collects typed values; a key given twice is an error. */
export function parseModelOption(text: string, previous: ModelOption[] | undefined): ModelOption[] {
  const at = text.indexOf('=');
  const key = at < 0 ? text.trim() : text.slice(0, at).trim();
  if (at < 0 || !KEY.test(key)) {
    throw new InvalidArgumentError('Expected key=value with a key of Ollama\'s "options", e.g. repeat_penalty=1.1, stop=\'["\\n"]\' or mirostat=2.');
  }
  const list = previous ?? [];
  if (list.some((option) => option.key === key)) throw new InvalidArgumentError(`${key} is given twice.`);
  return [...list, { key, value: typedValue(key, text.slice(at + 1)) }];
}

/** --format: "json", a JSON schema inline ('{"type":"object",...}'), or @file with the schema. */
export function parseFormat(text: string): 'json' | JsonObject {
  const trimmed = text.trim();
  if (trimmed === 'json') return 'json';
  let source = 'the schema';
  let json = trimmed;
  if (trimmed.startsWith('@')) {
    const path = trimmed.slice(1);
    source = `the schema file ${path}`;
    try {
      json = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new InvalidArgumentError(`cannot read ${source}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
    }
  } else if (!trimmed.startsWith('{')) {
    throw new InvalidArgumentError('Expected json, a JSON schema such as \'{"type":"object","properties":{...}}\', or @file.json.');
  }
  let schema: unknown;
  try {
    schema = JSON.parse(json);
  } catch (error) {
    throw new InvalidArgumentError(`${source} is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new InvalidArgumentError(`${source} must be a JSON object.`);
  return schema as JsonObject;
}

const THINK: Record<string, Think> = { true: true, false: false, low: 'low', medium: 'medium', high: 'high' };

/** --think: true, false, low, medium or high. */
export function parseThink(text: string): Think {
  const think = THINK[text.trim().toLowerCase()];
  if (think === undefined) throw new InvalidArgumentError('Expected true, false, low, medium or high.');
  return think;
}

/** The request fields the model flags set: `options`, `format`, `think`. Conflicting flags are a usage error. */
export function modelFields(flags: ModelFlags): JsonObject {
  const fields: JsonObject = {};
  const options: JsonObject = {};
  const fromFlags: Array<[string, number | undefined]> = [
    ['temperature', flags.temperature],
    ['num_predict', flags.maxTokens],
    ['seed', flags.seed],
    ['top_p', flags.topP],
    ['num_ctx', flags.numCtx],
  ];
  for (const [key, value] of fromFlags) if (value !== undefined) options[key] = value;
  for (const { key, value } of flags.option ?? []) {
    if (key in options) {
      throw new UsageError(`--option ${key}=... and ${DEDICATED[key]?.flag ?? key} both set ${key}: give one of them.`);
    }
    options[key] = value;
  }
  if (Object.keys(options).length > 0) fields.options = options;
  if (flags.json && flags.format !== undefined && flags.format !== 'json') {
    throw new UsageError('--json asks for format "json" and --format gives a schema: give one of them.');
  }
  const format = flags.format ?? (flags.json ? 'json' : undefined);
  if (format !== undefined) fields.format = format;
  if (flags.think !== undefined) fields.think = flags.think;
  return fields;
}
