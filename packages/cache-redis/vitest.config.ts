import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedTestConfig, sourceAliases } from '../../vitest.shared.ts';

// The private test harness is not a published dependency of this package: tests reach its source directly.
const harness = fileURLToPath(new URL('../redis-harness/src/index.ts', import.meta.url));

export default defineConfig({
  ...sharedTestConfig,
  resolve: { alias: [...sourceAliases, { find: /^@tinyllm\/redis-harness$/, replacement: harness }] },
});
