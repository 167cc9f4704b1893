import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { optionsOfInterface, optionsTableOf } from '../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('documented options', () => {
  it('reads an interface’s options, inherited ones included, with their @default tags', () => {
    expect(optionsOfInterface(fixture('options.ts'), 'DocumentedOptions')).toEqual([
      { name: 'inherited', default: '1' },
      { name: 'name', default: '"x"' },
    ]);
  });
  it('refuses an option without a @default tag, naming it', () => {
    expect(() => optionsOfInterface(fixture('options.ts'), 'UndocumentedOptions')).toThrow('UndocumentedOptions.bare has no @default tag');
  });
  it('reads a README table’s option and default columns, backticks removed', () => {
    expect(optionsTableOf(fixture('README.md'), '## Options')).toEqual(optionsOfInterface(fixture('options.ts'), 'DocumentedOptions'));
    expect(() => optionsTableOf(fixture('README.md'), '## Nowhere')).toThrow(/no heading/);
  });
});
