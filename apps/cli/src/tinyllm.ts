#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs (start-up time is most of a cache hit); a no-op on Node 20.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { main } = await import('./program.js');
const code = await main(process.argv);
process.exitCode = code;
// Everything is closed by now; a stray socket or timer must not keep a finished command alive.
setTimeout(() => process.exit(code), 1_000).unref();
