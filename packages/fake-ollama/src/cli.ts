#!/usr/bin/env node
import { parseCliArgs, USAGE } from './cli-args.js';
import { startFakeOllama } from './server.js';

const args = parseCliArgs(process.argv.slice(2));
if (args.kind === 'help') {
  process.stdout.write(USAGE);
} else if (args.kind === 'error') {
  process.stderr.write(`fake-ollama: ${args.message}\nRun "fake-ollama --help" for usage.\n`);
  process.exitCode = 2;
} else {
  startFakeOllama(args.options).then(
    (server) => {
      process.stdout.write(`fake-ollama listening on ${server.url}\n`);
      const stop = (): void => {
        server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      process.stderr.write(`fake-ollama: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
