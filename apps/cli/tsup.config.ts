import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: { tinyllm: 'src/tinyllm.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  // Commands load lazily (dynamic import), so each one lands in its own chunk and start-up only
  // parses what the command needs.
  splitting: true,
  sourcemap: false,
  dts: false,
  // Bundled: the pure-JS workspace packages and small dependencies (fewer files to resolve and
  // read at start-up). ollama, lru-cache and whatwg-fetch come in through them.
  noExternal: [/^@tinyllm\/(cache-core|cache-memory|ollama-cached)$/, 'commander', 'picocolors'],
  // Loaded from node_modules at run time: the native SQLite driver and ioredis, through the
  // packages that declare them (so they resolve wherever pnpm or npm put them), and cli-progress
  // (CommonJS, needed only for a progress bar on a terminal).
  external: ['@tinyllm/cache-sqlite', '@tinyllm/cache-redis', 'better-sqlite3', 'ioredis', 'cli-progress'],
  define: { __TINYLLM_VERSION__: JSON.stringify(pkg.version) },
  // The bundled CommonJS (commander) calls require() for Node built-ins; give ESM chunks one.
  banner: { js: "import { createRequire as __tinyllmCreateRequire } from 'node:module';\nconst require = __tinyllmCreateRequire(import.meta.url);" },
});
