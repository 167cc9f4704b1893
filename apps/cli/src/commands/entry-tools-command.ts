import { ENTRY_SORT_FIELDS } from '@tinyllm/cache-core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseMaxBytes, parseMaxEntries, parseNonEmpty } from '../config.js';
import type { ExitCode } from '../errors.js';
import type { CommandContext } from '../program.js';

const AGE_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** --older-than / --newer-than: an age in seconds, or with a unit: 90, 30s, 15m, 2h, 7d, 1w. */
export function parseAge(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(value);
  const unit = AGE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) throw new InvalidArgumentError('Expected an age: seconds, or a number with s, m, h, d or w (90, 15m, 2h, 7d).');
  return Number(match[1]) * unit;
}

type Wrap = (action: (command: Command) => Promise<ExitCode>) => (...args: unknown[]) => Promise<void>;

/** Adds the entry filters of cache-list, cache-delete and cache-export. */
function addFilters(command: Command): Command {
  return command
    .optionsGroup('Filters:')
    .addOption(new Option('--model <name>', 'only entries of this model (llama3 is llama3:latest)').argParser(parseNonEmpty))
    .addOption(new Option('--namespace <name>', 'only entries of this key namespace (a proxy tenant, an app)').argParser(parseNonEmpty))
    .addOption(new Option('--endpoint <name>', 'only entries of this endpoint: generate, chat, embed, embeddings, openai-chat...').argParser(parseNonEmpty))
    .addOption(new Option('--older-than <age>', 'only entries at least this old: 90, 15m, 2h, 7d').argParser(parseAge))
    .addOption(new Option('--newer-than <age>', 'only entries at most this old').argParser(parseAge))
    .addOption(new Option('--min-size <size>', 'only answers of at least this size: 100KiB').argParser(parseMaxBytes))
    .addOption(new Option('--max-size <size>', 'only answers of at most this size').argParser(parseMaxBytes));
}

/** Registers cache-list, cache-show, cache-delete, cache-prune, cache-export and cache-import. */
export function registerEntryTools(
  program: Command,
  addStoreOptions: (command: Command) => Command,
  wrap: Wrap,
  context: (command: Command) => CommandContext,
): void {
  const load = () => import('./entry-tools.js');

  addFilters(addStoreOptions(program.command('cache-list').description("list the cache's entries (model, endpoint, age, size, hits), never their answers")))
    .optionsGroup('Output:')
    .addOption(new Option('--sort <field>', 'order by a field').choices(ENTRY_SORT_FIELDS))
    .option('--desc', 'largest (newest, biggest, most used) first')
    .addOption(new Option('--limit <n>', 'at most this many entries').argParser(parseMaxEntries))
    .option('--json', 'one JSON object per entry and line (streams)')
    .addHelpText(
      'after',
      `
The listing streams from the store in batches (SQLite pages, Redis SCAN on every master), so it
works on caches of any size; --sort keeps only the metadata (of --limit entries when given).

Examples:
  $ tinyllm cache-list --model llama3.2 --sort hits --desc --limit 20
  $ tinyllm cache-list --older-than 7d --json | jq -r .key
  $ tinyllm cache-list --backend redis --namespace team-a`,
    )
    .action(wrap(async (command) => (await load()).cacheListCommand(command.opts(), context(command))));

  addStoreOptions(
    program.command('cache-show').description('show one entry: its metadata and the stored answer').argument('<key>', 'the key, or its first 8+ characters'),
  )
    .optionsGroup('Output:')
    .option('--json', 'the metadata and the whole stored value as JSON')
    .addHelpText('after', '\nExamples:\n  $ tinyllm cache-show 3f9a1c0e\n  $ tinyllm cache-show "$(tinyllm cache-key "Why is the sky blue?")" --json')
    .action(wrap(async (command) => (await load()).cacheShowCommand(command.args[0] ?? '', command.opts(), context(command))));

  addFilters(
    addStoreOptions(
      program
        .command('cache-delete')
        .description('delete one entry by key, or the entries a filter selects')
        .argument('[key]', 'the key, or its first 8+ characters'),
    ),
  )
    .optionsGroup('Options:')
    .option('--no-confirm', 'delete by filter without asking (needed when stdin is not a terminal)')
    .option('--json', 'print {"removed": n} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ tinyllm cache-delete 3f9a1c0e                          # one wrong answer
  $ tinyllm cache-delete --model llama3.1 --no-confirm     # a model you replaced
  $ tinyllm cache-delete --older-than 30d`,
    )
    .action(wrap(async (command) => (await load()).cacheDeleteCommand(command.args[0], command.opts(), context(command))));

  addStoreOptions(program.command('cache-prune').description('remove expired entries (Redis drops them by itself)'))
    .optionsGroup('Options:')
    .option('--json', 'print {"removed": n} as JSON')
    .action(wrap(async (command) => (await load()).cachePruneCommand(command.opts(), context(command))));

  addFilters(
    addStoreOptions(
      program.command('cache-export').description('write entries to a JSON lines file, with their remaining TTL').argument('<file>', '"-" writes stdout'),
    ),
  )
    .optionsGroup('Output:')
    .option('--json', 'print {"exported", "bytes", "file"} as JSON')
    .addHelpText(
      'after',
      `
The file starts with a header line {"format":"tinyllm-cache-export","version":1,"exportedAt":...},
then one entry per line: key, value, createdAt, ttlSeconds (left at export), model, endpoint...

Examples:
  $ tinyllm cache-export warm.jsonl --model llama3.2
  $ tinyllm cache-export - | gzip > cache.jsonl.gz`,
    )
    .action(wrap(async (command) => (await load()).cacheExportCommand(command.args[0] ?? '', command.opts(), context(command))));

  addStoreOptions(program.command('cache-import').description('read entries from an export file into the cache').argument('<file>', '"-" reads stdin'))
    .optionsGroup('Options:')
    .option('--merge', "add the file's entries; a key in both takes the file's (default)")
    .option('--replace', 'remove the cache entries first')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Each entry keeps the TTL it had left when exported (entries that ran out meanwhile are skipped).
Every line is checked; a bad one is reported with its number and skipped, and the exit code is 1.

Examples:
  $ tinyllm cache-import warm.jsonl
  $ gunzip -c cache.jsonl.gz | tinyllm cache-import - --replace --backend redis`,
    )
    .action(wrap(async (command) => (await load()).cacheImportCommand(command.args[0] ?? '', command.opts(), context(command))));
}
