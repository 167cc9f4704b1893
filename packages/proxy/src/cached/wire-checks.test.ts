import { describe, expect, it } from 'vitest';
import { excludedFieldsValid, isKeepAlive } from './wire-checks.js';

describe('fields left out of the key, checked as Ollama decodes them', () => {
  it('keep_alive: a number, null or a Go duration (api.Duration.UnmarshalJSON)', () => {
    for (const good of [0, -1, 300, null, undefined, '0', '5m', '-1m', '1h30m', '1.5s', '300ms', '.5h']) expect(isKeepAlive(good), String(good)).toBe(true);
    for (const bad of ['10', '-1', '5 m', 'five minutes', '', true, [], {}]) expect(isKeepAlive(bad), JSON.stringify(bad)).toBe(false);
  });

  it('stream, runtime options and the /v1 extras must have the types Ollama decodes', () => {
    expect(excludedFieldsValid({ model: 'm', stream: false, keep_alive: '5m', options: { num_thread: 4, use_mmap: true } }, false)).toBe(true);
    expect(excludedFieldsValid({ model: 'm', stream: 'no' }, false)).toBe(false);
    expect(excludedFieldsValid({ model: 'm', keep_alive: '10' }, false)).toBe(false);
    expect(excludedFieldsValid({ model: 'm', options: { num_thread: 'x' } }, false)).toBe(false);
    expect(excludedFieldsValid({ model: 'm', options: { use_mmap: 1 } }, false)).toBe(false);
    expect(excludedFieldsValid({ model: 'm', stream_options: { include_usage: true }, user: 'u' }, true)).toBe(true);
    expect(excludedFieldsValid({ model: 'm', stream_options: 'yes' }, true)).toBe(false);
    expect(excludedFieldsValid({ model: 'm', user: 7 }, true)).toBe(false);
  });
});
