import { fileURLToPath } from 'node:url';
import { optionsOfInterface, optionsTableOf } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

describe("the README's options tables match the code (names and @default tags)", () => {
  it.each([
    ['## `ResponseCache` options', '../src/response-cache.ts', 'ResponseCacheOptions'],
    ['## The backend contract', '../src/tiered-backend.ts', 'TieredBackendOptions'],
    ['## The conformance suite', '../src/conformance/options.ts', 'ConformanceOptions'],
  ])('%s: %s %s', (heading, source, name) => {
    expect(optionsTableOf(here('../README.md'), heading)).toEqual(optionsOfInterface(here(source), name));
  });
});
