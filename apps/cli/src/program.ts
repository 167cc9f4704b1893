import { Command, CommanderError, Option } from 'commander';
import { BROKEN_PIPE_GRACE_MS, finishRegisteredWork, isClosedPipe } from './broken-pipe.js';
import { registerServe } from './commands/serve-command.js';
import {
  BACKENDS,
  type CacheConfig,
  DEFAULTS,
  ENV,
  OUTPUTS,
  parseConcurrency,
  parseDb,
  parseMaxTokens,
  parseNonEmpty,
  parseOllamaHost,
  parsePort,
  parseRedisUrl,
  parseTemperature,
  parseTtl,
  type RawCacheOptions,
  resolveCacheConfig,
} from './config.js';
import { describeError, EXIT, type ExitCode } from './errors.js';
import { createOutput, type Output } from './output.js';

/** What every command receives besides its own options. */
export interface CommandContext {
  /** Where to write. */
  output: Output;
  /** The environment (process.env). */
  env: NodeJS.ProcessEnv;
  /** The resolved cache options (flags, TINYLLM_* variables, defaults). */
  cache: CacheConfig;
}

const VERSION = typeof __TINYLLM_VERSION__ === 'string' ? __TINYLLM_VERSION__ : '0.0.0-dev';

const ENV_HELP = `
Environment (flags win over these):
  ${ENV.cacheBackend.padEnd(24)} --cache-backend (sqlite, memory, redis)
  ${ENV.cache.padEnd(24)} false/0/no/off acts like --no-cache (run, warm)
  ${ENV.cacheTtl.padEnd(24)} --cache-ttl in seconds
  ${ENV.model.padEnd(24)} --model
  ${ENV.ollamaHost.padEnd(24)} --ollama-host (then OLLAMA_HOST)
  ${ENV.output.padEnd(24)} --output of run and warm (text, json)
  ${ENV.concurrency.padEnd(24)} --concurrency of warm
  ${ENV.sqlitePath.padEnd(24)} --sqlite-path (default $XDG_CACHE_HOME/tinyllm/cache.sqlite, else ~/.cache/tinyllm/cache.sqlite)
  ${ENV.redisUrl.padEnd(24)} --redis-url; also ${ENV.redisHost}, ${ENV.redisPort}, ${ENV.redisDb},
  ${''.padEnd(24)} ${ENV.redisPassword}, ${ENV.redisKeyPrefix}
  NO_COLOR                 no colours, even on a terminal

Exit codes: 0 success (also when Redis is down: the answer comes without the cache; and when
              the reader of stdout goes away, e.g. | head: the command stops quietly),
            1 runtime failure (Ollama unreachable, model not found, a warm line failed),
            2 usage error (bad flag or value, missing confirmation).`;

/** Adds the options that choose and reach a cache store (every command has them). */
function addStoreOptions(command: Command): Command {
  return command
    .addOption(new Option('--cache-backend <name>', 'where answers are kept').choices(BACKENDS).default(DEFAULTS.cacheBackend).env(ENV.cacheBackend))
    .addOption(new Option('--backend <name>', 'alias of --cache-backend').choices(BACKENDS))
    .addOption(
      new Option('--sqlite-path <file>', 'SQLite cache file (default: $XDG_CACHE_HOME/tinyllm/cache.sqlite or ~/.cache/tinyllm/cache.sqlite)')
        .argParser(parseNonEmpty)
        .env(ENV.sqlitePath),
    )
    .addOption(new Option('--redis-url <url>', 'Redis URL, e.g. redis://127.0.0.1:6379/0').argParser(parseRedisUrl).env(ENV.redisUrl))
    .addOption(new Option('--redis-host <host>', `Redis host (default: ${DEFAULTS.redisHost}, or the URL's)`).argParser(parseNonEmpty).env(ENV.redisHost))
    .addOption(new Option('--redis-port <port>', `Redis port (default: ${DEFAULTS.redisPort}, or the URL's)`).argParser(parsePort).env(ENV.redisPort))
    .addOption(new Option('--redis-db <index>', `Redis database index (default: ${DEFAULTS.redisDb}, or the URL's)`).argParser(parseDb).env(ENV.redisDb))
    .addOption(new Option('--redis-password <password>', "Redis password (default: none, or the URL's)").env(ENV.redisPassword))
    .addOption(
      new Option('--redis-key-prefix <prefix>', "prefix of the cache's Redis keys; cache-clear removes only these")
        .argParser(parseNonEmpty)
        .default(DEFAULTS.redisKeyPrefix)
        .env(ENV.redisKeyPrefix),
    );
}

/** Adds the model options of commands that call the model (run, warm). */
function addModelOptions(command: Command): Command {
  return command
    .addOption(new Option('--model <name>', 'the model to ask').argParser(parseNonEmpty).default(DEFAULTS.model).env(ENV.model))
    .addOption(
      new Option('--ollama-host <url>', `the Ollama server (default: $OLLAMA_HOST, else ${DEFAULTS.ollamaHost})`)
        .argParser(parseOllamaHost)
        .env(ENV.ollamaHost),
    );
}

/** Adds the cache controls of commands that call the model (run, warm). */
function addCacheControls(command: Command): Command {
  return command
    .option('--cache', 'answer from the cache and store new answers (default)')
    .option('--no-cache', `always ask the model, store nothing (env ${ENV.cache}=false)`)
    .addOption(
      new Option('--cache-ttl <seconds>', 'how long new answers stay cached; 0 = forever').argParser(parseTtl).default(DEFAULTS.cacheTtl).env(ENV.cacheTtl),
    )
    .option('--force-refresh', 'skip the cached answer, ask the model and store the fresh answer');
}

/** Runs a command module's action, turning its result into the exit code. */
type Action = (command: Command) => Promise<ExitCode>;

function cacheConfigOf(command: Command, env: NodeJS.ProcessEnv): CacheConfig {
  const raw = command.opts<RawCacheOptions>();
  // Only commands with --cache / --no-cache (run, warm) read TINYLLM_CACHE.
  const cacheToggle = command.options.some((option) => option.long === '--no-cache');
  return resolveCacheConfig(raw, (key) => command.getOptionValueSource(key), env, { cacheToggle });
}

/** Builds the commander program. `setExit` receives each command's exit code. */
export function buildProgram(output: Output, env: NodeJS.ProcessEnv, setExit: (code: ExitCode) => void): Command {
  const program = new Command('tinyllm');
  const wrap =
    (action: Action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      setExit(await action(command));
    };
  const context = (command: Command): CommandContext => ({ output, env, cache: cacheConfigOf(command, env) });

  program
    .description('Ask a local Ollama model, with answers cached between runs (SQLite by default, or Redis).')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .configureOutput({
      writeOut: (text) => output.print(text),
      writeErr: (text) => output.printErr(text),
      outputError: (text, write) => write(output.err.red(text)),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ tinyllm run "Why is the sky blue?"
  $ tinyllm run --model llama3.2 --temperature 0 "Summarise: $(cat notes.txt)"
  $ tinyllm warm prompts.jsonl --concurrency 8
  $ tinyllm cache-stats
  $ tinyllm cache-clear --no-confirm
${ENV_HELP}`,
    );

  const run = program
    .command('run')
    .description('ask the model one prompt; the answer comes from the cache when it is there')
    .argument('<prompt>', 'the prompt ("-" reads it from stdin)');
  addModelOptions(run)
    .addOption(new Option('--system <text>', 'system prompt').argParser(parseNonEmpty))
    .addOption(new Option('--temperature <number>', 'sampling temperature, e.g. 0 for repeatable answers').argParser(parseTemperature))
    .addOption(new Option('--max-tokens <n>', 'the most tokens to generate (num_predict)').argParser(parseMaxTokens))
    .option('--json', 'JSON mode: ask the model for a JSON answer (format "json")')
    .addOption(
      new Option('--output <format>', 'text: the answer; json: the whole response plus cache details')
        .choices(OUTPUTS)
        .default(DEFAULTS.output)
        .env(ENV.output),
    );
  addStoreOptions(addCacheControls(run))
    .addHelpText(
      'after',
      `
On a terminal the answer streams as it is generated; piped, it is printed whole. A line on stderr
says where it came from, e.g. "cache hit · saved 2.1 s" or "cache miss · stored for 3600 s"; when
the store rejected the write, "not stored" and a warning saying why.

Examples:
  $ tinyllm run "Why is the sky blue?"
  $ tinyllm run --no-cache "Tell me a joke"                 # always ask the model
  $ tinyllm run --force-refresh --cache-ttl 86400 "News?"   # replace the cached answer, keep it a day
  $ tinyllm run --json "List three colours as a JSON array"
  $ tinyllm run --output json "Hi" | jq .cache              # {status, key, ageMs, savedMs}
  $ echo "Explain DNS" | tinyllm run -
  $ tinyllm run --cache-backend redis --redis-url redis://localhost:6379 "Hi"`,
    )
    .action(
      wrap(async (command) => {
        const { runCommand } = await import('./commands/run.js');
        return runCommand(command.args[0] ?? '', command.opts(), context(command));
      }),
    );

  addStoreOptions(program.command('cache-stats').description('show entries, hits, misses, hit rate and time saved (from every process)'))
    .option('--json', 'print the figures as JSON')
    .addHelpText(
      'after',
      `
Hits, misses and time saved come from counters kept in the store (SQLite file or Redis), so they
include every earlier run. The memory backend lives inside one process and has nothing to show.

Examples:
  $ tinyllm cache-stats
  $ tinyllm cache-stats --json | jq .hitRate
  $ tinyllm cache-stats --backend redis --redis-url redis://localhost:6379`,
    )
    .action(
      wrap(async (command) => {
        const { cacheStatsCommand } = await import('./commands/cache-stats.js');
        return cacheStatsCommand(command.opts(), context(command));
      }),
    );

  addStoreOptions(program.command('cache-clear').description("remove this cache's entries (nothing else in the file or the Redis database)"))
    .option('--no-confirm', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'print {"removed": n} as JSON')
    .addHelpText(
      'after',
      `
On a terminal it asks before removing anything. Without a terminal (a script, CI) it refuses unless
--no-confirm is given. Hit/miss counters are kept.

Examples:
  $ tinyllm cache-clear
  $ tinyllm cache-clear --no-confirm
  $ tinyllm cache-clear --backend redis --redis-url redis://localhost:6379 --no-confirm`,
    )
    .action(
      wrap(async (command) => {
        const { cacheClearCommand } = await import('./commands/cache-clear.js');
        return cacheClearCommand(command.opts(), context(command));
      }),
    );

  const warm = program
    .command('warm')
    .description('fill the cache from a file of prompts (JSON lines or one prompt per line)')
    .argument('<file>', 'the requests, one per line ("-" reads stdin)');
  addModelOptions(warm)
    .addOption(new Option('--concurrency <n>', 'requests in flight at once').argParser(parseConcurrency).default(DEFAULTS.concurrency).env(ENV.concurrency))
    .addOption(new Option('--output <format>', 'text or json summary').choices(OUTPUTS).default(DEFAULTS.output).env(ENV.output));
  addStoreOptions(addCacheControls(warm))
    .addHelpText(
      'after',
      `
Each line is either a JSON object or a plain prompt. JSON lines take the fields of Ollama's
generate request (model, prompt, system, suffix, format, options, think...) plus the shortcuts
temperature, max_tokens, seed and json (true = format "json"); a line with "messages" is a chat
request. Lines without a model use --model. Blank lines and a leading byte order mark are skipped.
A malformed line counts as failed (with its line number), and so does a line whose answer the
store did not take; the exit code is 1 when any line failed.

Examples:
  $ tinyllm warm prompts.txt
  $ tinyllm warm requests.jsonl --concurrency 8 --cache-ttl 86400
  $ printf '%s\\n' '{"prompt":"Hi","temperature":0}' '{"messages":[{"role":"user","content":"Hi"}]}' | tinyllm warm -`,
    )
    .action(
      wrap(async (command) => {
        const { warmCommand } = await import('./commands/warm.js');
        return warmCommand(command.args[0] ?? '', command.opts(), context(command));
      }),
    );

  registerServe(program, addStoreOptions, wrap, context);
  return program;
}

/** Parses argv, runs the command and resolves its exit code (0 success, 1 failure, 2 usage error). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  let stdoutFailed = false;
  // stdout's reader went away (`tinyllm run ... | head`): later writes are dropped, open sessions
  // close (letting a cache write already on its way land), and the command ends quietly. A closed
  // pipe is not a failure (exit code as the command decides, 0 for run); another write error is.
  const onStdoutError = (error: Error): void => {
    if (!isClosedPipe(error)) {
      stdoutFailed = true;
      process.exitCode = EXIT.failure;
      output.error(`cannot write to stdout: ${error.message}`);
    }
    void finishRegisteredWork().then(() => {
      // Normally the command has finished by now; this only ends one that something still holds open.
      setTimeout(() => process.exit(stdoutFailed ? EXIT.failure : (process.exitCode ?? EXIT.ok)), BROKEN_PIPE_GRACE_MS).unref();
    });
  };
  const output = createOutput({ env, onStdoutError });
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(output, env, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv as string[]);
    return stdoutFailed ? EXIT.failure : code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed its message (or the help / version) already.
      return stdoutFailed ? EXIT.failure : error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const described = describeError(error, { ollamaHost: DEFAULTS.ollamaHost });
    output.error(described.message);
    return described.exitCode;
  }
}
