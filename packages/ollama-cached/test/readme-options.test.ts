import { fileURLToPath } from 'node:url';
import { optionsOfInterface, optionsTableOf } from '@tinyllm/test-utils';
import { expect, it } from 'vitest';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

it("the README's options table matches CreateCachedClientOptions (names and @default tags)", () => {
  expect(optionsTableOf(here('../README.md'), '## `createCachedClient` options')).toEqual(
    optionsOfInterface(here('../src/create-cached-client.ts'), 'CreateCachedClientOptions'),
  );
});
