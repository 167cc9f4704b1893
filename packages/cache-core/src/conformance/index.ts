import { describe, it } from 'vitest';
import { conformanceCases } from './cases.js';
import type { ConformanceOptions } from './options.js';

export { conformanceCases } from './cases.js';
export type { BackendFactoryResult, ConformanceCase, ConformanceOptions } from './options.js';

/**
 * Registers the conformance suite for a backend as vitest tests:
 * `runConformanceSuite('my backend', { createBackend: ({ namespace }) => new MyBackend({ namespace }) })`.
 */
export function runConformanceSuite(label: string, options: ConformanceOptions): void {
  describe(`${label}: CacheBackend conformance`, () => {
    for (const testCase of conformanceCases(options)) {
      it(testCase.name, testCase.run, 30_000);
    }
  });
}
