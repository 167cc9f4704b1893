import { defineConfig } from 'vitest/config';

// No source aliases here on purpose: this app uses the packages' built, published entry points,
// exactly as a third party would.
export default defineConfig({ test: { include: ['src/**/*.test.ts'], testTimeout: 30_000 } });
