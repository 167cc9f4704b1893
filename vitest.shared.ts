import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

/**
 * Tests import workspace packages from their sources, so a test run never waits on (or races
 * with) another package's build. apps/example-backend and the CLI's process tests deliberately
 * use the built entry points instead.
 */
export const sourceAliases = [
  { find: /^@tinyllm\/cache-core\/conformance$/, replacement: src('cache-core/src/conformance/index.ts') },
  { find: /^@tinyllm\/cache-core\/internal$/, replacement: src('cache-core/src/internal.ts') },
  { find: /^@tinyllm\/cache-core$/, replacement: src('cache-core/src/index.ts') },
  { find: /^@tinyllm\/cache-memory$/, replacement: src('cache-memory/src/index.ts') },
  { find: /^@tinyllm\/cache-redis$/, replacement: src('cache-redis/src/index.ts') },
  { find: /^@tinyllm\/cache-sqlite$/, replacement: src('cache-sqlite/src/index.ts') },
  { find: /^@tinyllm\/fake-ollama$/, replacement: src('fake-ollama/src/index.ts') },
  { find: /^@tinyllm\/ollama-cached\/engine$/, replacement: src('ollama-cached/src/engine/index.ts') },
  { find: /^@tinyllm\/ollama-cached$/, replacement: src('ollama-cached/src/index.ts') },
  { find: /^@tinyllm\/redis-harness$/, replacement: src('redis-harness/src/index.ts') },
  { find: /^@tinyllm\/test-utils$/, replacement: src('test-utils/src/index.ts') },
];

/** The vitest settings every package shares. */
export const sharedTestConfig: ViteUserConfig = {
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A skipped or todo test left behind is a failure of the suite, not a pass.
    allowOnly: false,
  },
};
