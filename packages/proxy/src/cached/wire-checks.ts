/**
 * Fields the cache key leaves out (they cannot change the answer) can still make Ollama refuse a
 * request: `keep_alive: "10"` (no unit), `stream: "yes"`, `options.num_thread: "x"`. Such a request
 * must reach Ollama as it is, or a cached answer would be served where Ollama answers an error.
 * These checks follow Ollama's decoding (api/types.go: Duration.UnmarshalJSON, Options field types).
 */
import { isObject, type JsonObject } from '@tinyllm/ollama-cached/engine';

// time.ParseDuration's grammar: "0", or signed numbers each with a unit.
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** A keep_alive value Ollama accepts: a number of seconds, null, or a Go duration string. */
export function isKeepAlive(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'number' || (typeof value === 'string' && GO_DURATION.test(value));
}

// Runtime options left out of the key, with the JSON type Ollama decodes each into.
const RUNTIME_OPTIONS: Readonly<Record<string, 'number' | 'boolean'>> = {
  num_thread: 'number',
  num_gpu: 'number',
  main_gpu: 'number',
  use_mmap: 'boolean',
  use_mlock: 'boolean',
  numa: 'boolean',
  low_vram: 'boolean',
};

const optional = (value: unknown, type: 'number' | 'boolean' | 'string'): boolean => value === undefined || value === null || typeof value === type;

/** Whether every field the key leaves out holds a value Ollama accepts (else the request is not keyed: Ollama answers it). */
export function excludedFieldsValid(body: JsonObject, openai: boolean): boolean {
  if (!optional(body.stream, 'boolean')) return false;
  if (openai) {
    const options = body.stream_options;
    if (options !== undefined && options !== null && !(isObject(options) && optional(options.include_usage, 'boolean'))) return false;
    return optional(body.user, 'string');
  }
  if (!isKeepAlive(body.keep_alive)) return false;
  const options = body.options;
  if (!isObject(options)) return true;
  for (const name in RUNTIME_OPTIONS) {
    if (name in options && !optional(options[name], RUNTIME_OPTIONS[name] as 'number' | 'boolean')) return false;
  }
  return true;
}
