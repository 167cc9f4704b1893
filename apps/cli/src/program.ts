import { Command, CommanderError, Option } from 'commander';
import { BROKEN_PIPE_GRACE_MS, finishRegisteredWork, isClosedPipe } from './broken-pipe.js';
import { registerEntryTools } from './commands/entry-tools-command.js';
import { registerServe } from './commands/serve-command.js';
import {
  BACKENDS,
  type CacheConfig,
  DEFAULTS,
  ENV,
  OUTPUTS,
  parseConcurrency,
  parseDb,
  parseMaxBytes,
  parseMaxEntries,
  parseMaxTokens,
  parseNonEmpty,
  parseNumCtx,
  parseOllamaHost,
  parsePort,
  parseRedisUrl,
  parseSeed,
  parseStaleIfError,
  parseTemperature,
  parseTimeoutMs,
  parseTopP,
  parseTtl,
  type RawCacheOptions,
  resolveCacheConfig,
  unsetEmptyVariables,
} from './config.js';
import { describeError, EXIT, type ExitCode } from './errors.js';
import { parseFormat, parseModelOption, parseThink } from './model-options.js';
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
Environment (flags win over these; an empty variable counts as unset):
  ${ENV.cacheBackend.padEnd(24)} --cache-backend (sqlite, memory, redis)
  ${ENV.cache.padEnd(24)} false/0/no/off acts like --no-cache (run, chat, warm)
  ${ENV.cacheTtl.padEnd(24)} --cache-ttl in seconds, or never
  ${ENV.model.padEnd(24)} --model
  ${ENV.ollamaHost.padEnd(24)} --ollama-host (then OLLAMA_HOST)
  ${ENV.timeoutMs.padEnd(24)} --timeout-ms
  ${ENV.output.padEnd(24)} --output of run, chat and warm (text, json)
  ${ENV.concurrency.padEnd(24)} --concurrency of warm
  ${ENV.sqlitePath.padEnd(24)} --sqlite-path (default $XDG_CACHE_HOME/tinyllm/cache.sqlite, else ~/.cache/tinyllm/cache.sqlite)
  ${ENV.maxEntries.padEnd(24)} --max-entries; also ${ENV.maxBytes} (sqlite and memory stores)
  ${ENV.redisUrl.padEnd(24)} --redis-url; also ${ENV.redisHost}, ${ENV.redisPort}, ${ENV.redisDb},
  ${''.padEnd(24)} ${ENV.redisPassword}, ${ENV.redisKeyPrefix}
  NO_COLOR                 no colours, even on a terminal

Exit codes: 0 success (also when Redis is down: the answer comes without the cache; and when
              the reader of stdout goes away, e.g. | head: the command stops quietly),
            1 runtime failure (Ollama unreachable, model not found, a warm line failed),
            2 usage error (bad flag or value, bad input, missing confirmation),
          130 interrupted (Ctrl-C).`;

const MODEL_GROUP = 'Model options:';
const CACHE_GROUP = 'Cache options:';
const STORE_GROUP = 'Store options:';

/** Adds the options that choose and reach a cache store (every command has them). */
function addStoreOptions(command: Command): Command {
  return command
    .optionsGroup(STORE_GROUP)
    .addOption(new Option('--cache-backend <name>', 'where answers are kept').choices(BACKENDS).default(DEFAULTS.cacheBackend).env(ENV.cacheBackend))
    .addOption(new Option('--backend <name>', 'another name for --cache-backend').choices(BACKENDS))
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

/** Adds the store bounds of commands that write answers (run, chat, warm). */
function addBoundOptions(command: Command): Command {
  return command
    .optionsGroup(STORE_GROUP)
    .addOption(
      new Option(
        '--max-entries <n>',
        `most entries the sqlite or memory store keeps (default: sqlite ${DEFAULTS.sqliteMaxEntries}, memory ${DEFAULTS.memoryMaxEntries})`,
      )
        .argParser(parseMaxEntries)
        .env(ENV.maxEntries),
    )
    .addOption(
      new Option(
        '--max-bytes <size>',
        `most bytes the sqlite or memory store keeps, e.g. 512MiB (default: sqlite ${DEFAULTS.sqliteMaxBytes / 1024 ** 2}MiB, memory ${DEFAULTS.memoryMaxBytes / 1024 ** 2}MiB)`,
      )
        .argParser(parseMaxBytes)
        .env(ENV.maxBytes),
    );
}

/** Adds the options that reach the model (run, chat, warm). */
function addModelOptions(command: Command): Command {
  return command
    .optionsGroup(MODEL_GROUP)
    .addOption(new Option('--model <name>', 'the model to ask').argParser(parseNonEmpty).default(DEFAULTS.model).env(ENV.model))
    .addOption(
      new Option('--ollama-host <url>', `the Ollama server (default: $OLLAMA_HOST, else ${DEFAULTS.ollamaHost})`)
        .argParser(parseOllamaHost)
        .env(ENV.ollamaHost),
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'deadline of each Ollama request in ms: for a whole answer, all of it; for a streamed one, its start and any pause')
        .argParser(parseTimeoutMs)
        .default(DEFAULTS.timeoutMs)
        .env(ENV.timeoutMs),
    );
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds what one question sends besides the text (run, chat): system prompt, sampling, format, think, images, output. */
function addGenerationOptions(command: Command): Command {
  return command
    .optionsGroup(MODEL_GROUP)
    .addOption(new Option('--system <text>', 'system prompt').argParser(parseNonEmpty))
    .addOption(new Option('--temperature <number>', 'sampling temperature, 0-100; 0 gives repeatable answers').argParser(parseTemperature))
    .addOption(new Option('--max-tokens <n>', 'the most tokens to generate (num_predict)').argParser(parseMaxTokens))
    .addOption(new Option('--seed <n>', 'random seed: the same seed and prompt give the same answer').argParser(parseSeed))
    .addOption(new Option('--top-p <number>', 'nucleus sampling, 0-1 (top_p)').argParser(parseTopP))
    .addOption(new Option('--num-ctx <tokens>', 'context window in tokens (num_ctx)').argParser(parseNumCtx))
    .addOption(
      new Option('--option <key=value>', 'any other Ollama option, typed as JSON (repeatable): repeat_penalty=1.1, stop=\'["\\n"]\'').argParser(
        parseModelOption,
      ),
    )
    .addOption(new Option('--format <format>', 'json, or a JSON schema the answer must follow (inline, or @file.json)').argParser(parseFormat))
    .option('--json', 'JSON mode: the same as --format json')
    .addOption(new Option('--think <level>', 'thinking models: true, false, low, medium or high (thinking goes to stderr)').argParser(parseThink))
    .addOption(new Option('--image <file>', 'an image for a vision model (repeatable)').argParser(collect))
    .optionsGroup('Output:')
    .addOption(
      new Option('--output <format>', 'text: the answer; json: the whole response plus cache details')
        .choices(OUTPUTS)
        .default(DEFAULTS.output)
        .env(ENV.output),
    );
}

/** Adds the cache controls of commands that call the model (run, chat, warm); `noStore` adds --no-store (run, chat). */
function addCacheControls(command: Command, { noStore }: { noStore: boolean }): Command {
  command
    .optionsGroup(CACHE_GROUP)
    .option('--cache', 'answer from the cache and store new answers (default)')
    .option('--no-cache', `always ask the model, store nothing (env ${ENV.cache}=false)`)
    .addOption(
      new Option('--cache-ttl <seconds>', `how long new answers stay cached: seconds, or never (default: ${DEFAULTS.cacheTtl})`)
        .argParser(parseTtl)
        .env(ENV.cacheTtl),
    )
    .addOption(
      new Option('--stale-if-error <seconds>', 'keep answers this long past their TTL, served only when the model fails (default: 0, off)')
        .argParser(parseStaleIfError)
        .env(ENV.staleIfError),
    )
    .option('--bind-model-digest', "key answers by the model's digest (/api/tags): a re-pulled model never serves old answers")
    .option('--force-refresh', 'skip the cached answer, ask the model and store the fresh answer');
  if (noStore) command.option('--no-store', 'do not store this answer (a stored one is still served)');
  return command;
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
  $ tinyllm chat --system "Be brief." --messages chat.jsonl "And then?"
  $ tinyllm warm prompts.jsonl --concurrency 8
  $ tinyllm cache-stats
  $ tinyllm cache-list --sort hits --desc --limit 20
  $ tinyllm cache-export warm.jsonl && tinyllm cache-import warm.jsonl
  $ tinyllm cache-clear --no-confirm
${ENV_HELP}`,
    );

  const run = program
    .command('run')
    .description('ask the model one prompt; the answer comes from the cache when it is there')
    .argument('<prompt>', 'the prompt ("-" reads it from stdin)');
  addBoundOptions(addStoreOptions(addCacheControls(addGenerationOptions(addModelOptions(run)), { noStore: true })))
    .addHelpText(
      'after',
      `
On a terminal the answer streams as it is generated; piped, it is printed whole. A line on stderr
says where it came from, e.g. "cache hit · saved 2.1 s" or "cache miss · stored for 3600 s"; when
the answer was not stored, "not stored" (and, if the store rejected it, a warning saying why).

Examples:
  $ tinyllm run "Why is the sky blue?"
  $ tinyllm run --no-cache "Tell me a joke"                 # always ask the model
  $ tinyllm run --force-refresh --cache-ttl 86400 "News?"   # replace the cached answer, keep it a day
  $ tinyllm run --temperature 0 --seed 42 --num-ctx 8192 "Summarise: $(cat notes.txt)"
  $ tinyllm run --format '{"type":"object","properties":{"colours":{"type":"array"}}}' "Three colours"
  $ tinyllm run --image cat.png --model llava "What is in this picture?"
  $ tinyllm run --output json "Hi" | jq .cache              # {status, key, ageMs, savedMs, stored}
  $ echo "Explain DNS" | tinyllm run -`,
    )
    .action(
      wrap(async (command) => {
        const { runCommand } = await import('./commands/run.js');
        return runCommand(command.args[0] ?? '', command.opts(), context(command));
      }),
    );

  const chat = program
    .command('chat')
    .description('send a conversation (roles, several turns) and get the next answer, cached like run')
    .argument('[message]', 'the next user message ("-" reads it from stdin)')
    .optionsGroup('Conversation:')
    .addOption(
      new Option('--messages <file>', 'the conversation so far: a JSON array or JSON lines of {role, content} ("-" reads stdin)').argParser(parseNonEmpty),
    );
  addBoundOptions(addStoreOptions(addCacheControls(addGenerationOptions(addModelOptions(chat)), { noStore: true })))
    .addHelpText(
      'after',
      `
The conversation is the messages of --messages (roles system, user, assistant, tool), then the
message argument as a user turn; --system puts a system message first and --image goes with the
last user message. The answer is cached like run's: the same conversation and options hit.

Examples:
  $ tinyllm chat "Hi there"
  $ tinyllm chat --system "Answer in French." "What is a cache?"
  $ printf '%s\\n' '{"role":"user","content":"My name is Ada."}' '{"role":"assistant","content":"Hello Ada!"}' > chat.jsonl
  $ tinyllm chat --messages chat.jsonl "What is my name?"
  $ cat conversation.json | tinyllm chat --messages - --output json | jq .message.content`,
    )
    .action(
      wrap(async (command) => {
        const { chatCommand } = await import('./commands/chat.js');
        return chatCommand(command.args[0], command.opts(), context(command));
      }),
    );

  addStoreOptions(program.command('cache-stats').description('show entries, hits, misses, hit rate and time saved (from every process)'))
    .optionsGroup('Options:')
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
    .optionsGroup('Options:')
    .option('--no-confirm', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'print {"removed": n} as JSON')
    .addHelpText(
      'after',
      `
On a terminal it asks before removing anything (Ctrl-C at the question removes nothing and exits
130). Without a terminal (a script, CI) it refuses unless --no-confirm is given. Hit/miss counters
are kept.

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
    .optionsGroup('Warm options:')
    .addOption(new Option('--concurrency <n>', 'requests in flight at once').argParser(parseConcurrency).default(DEFAULTS.concurrency).env(ENV.concurrency))
    .addOption(new Option('--output <format>', 'text or json summary').choices(OUTPUTS).default(DEFAULTS.output).env(ENV.output));
  addBoundOptions(addStoreOptions(addCacheControls(warm, { noStore: false })))
    .addHelpText(
      'after',
      `
Each line is either a JSON object or a plain prompt. JSON lines take the fields of Ollama's
generate request (model, prompt, system, suffix, format, options, think...) plus the shortcuts
temperature, max_tokens, seed and json (true = format "json"); a line with "messages" is a chat
request. Lines without a model use --model. Blank lines and a leading byte order mark are skipped.
A malformed line counts as failed (with its line number), and so does a line whose answer the
store did not take; the exit code is 1 when any line failed. Ctrl-C stops the run and prints the
summary so far (exit 130); a second Ctrl-C ends it at once.

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

  const cacheKey = program
    .command('cache-key')
    .description('print the cache key a run with the same prompt and flags uses (asks no model, opens no store)')
    .argument('<prompt>', 'the prompt ("-" reads it from stdin)');
  addGenerationOptions(addModelOptions(cacheKey))
    .addHelpText(
      'after',
      `
Takes run's model flags (--model, --system, --temperature, --seed, --format, --option...): the
same flags give the same key. --output json prints {key, endpoint, model}.

Examples:
  $ tinyllm cache-key --temperature 0 "Why is the sky blue?"
  $ tinyllm cache-show "$(tinyllm cache-key "Why is the sky blue?")"`,
    )
    .action(
      wrap(async (command) => {
        const { cacheKeyCommand } = await import('./commands/cache-key.js');
        return cacheKeyCommand(command.args[0] ?? '', command.opts(), output);
      }),
    );

  registerEntryTools(program, addStoreOptions, wrap, context);
  registerServe(program, addStoreOptions, wrap, context);
  return program;
}

/** Parses argv, runs the command and resolves its exit code (0 success, 1 failure, 2 usage error). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  unsetEmptyVariables(env);
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
