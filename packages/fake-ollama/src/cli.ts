#!/usr/bin/env node
import { parseCliArgs, USAGE } from './cli-args.js';
import { startFakeOllama } from './server.js';

const args = parseCliArgs(process.argv.slice(2), process.env);
if (args.kind === 'help') {
  process.stdout.write(USAGE);
} else if (args.kind === 'error') {
  process.stderr.write(`fake-ollama: ${args.message}\nRun "fake-ollama --help" for usage.\n`);
  process.exitCode = 2;
} else {
  startFakeOllama(args.options).then(
    (server) => {
      try {
        for (const [model, digest] of args.digests) server.setModelDigest(model, digest);
        for (const { fault, times } of args.faults) server.failNext(fault, times);
      } catch (err) {
        process.stderr.write(`fake-ollama: ${err instanceof Error ? err.message : String(err)}\n`);
        server.close().then(() => process.exit(2));
        return;
      }
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
