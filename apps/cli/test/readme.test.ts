import { readFileSync } from 'node:fs';
import { createEntry } from '@tinyllm/cache-core';
import { DEFAULT_MAX_BYTES, MemoryBackend } from '@tinyllm/cache-memory';
import { SQLITE_DEFAULTS } from '@tinyllm/cache-sqlite';
import { OLLAMA_CLIENT_DEFAULTS } from '@tinyllm/ollama-cached';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV } from '../src/config.js';
import { createOutput } from '../src/output.js';
import { buildProgram } from '../src/program.js';

// The README's flag tables against the program itself: every flag of every command is documented
// in its section, nothing documented is missing from the code, and each documented default and
// environment variable is the one the code uses.
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

const silent = { write: () => true };
const program = buildProgram(createOutput({ stdout: silent, stderr: silent, stdin: {}, env: {} }), {}, () => {});
const commandNamed = (name: string): Command => {
  const command = program.commands.find((c) => c.name() === name);
  if (command === undefined) throw new Error(`no command ${name}`);
  return command;
};
const longFlags = (command: Command): string[] =>
  command.options
    .map((o) => o.long)
    .filter((flag): flag is string => flag !== undefined && flag !== '--help')
    .sort();

/** The rows of the first table after the command's heading: [flag cell, default, env, meaning]. */
function tableOf(name: string): string[][] {
  const start = README.indexOf(`### \`tinyllm ${name}`);
  expect(start, `README section for ${name}`).toBeGreaterThanOrEqual(0);
  const section = README.slice(start, README.indexOf('\n## ', start) < 0 ? undefined : README.indexOf('\n### ', start + 1));
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/)
      .map((cell) => cell.trim()),
  );
}

/** The flags a README row documents; `--redis-*` and "every flag of `run`" expand to what they name. */
function documentedFlags(name: string): string[] {
  const flags = new Set<string>();
  for (const [cell = ''] of tableOf(name)) {
    if (cell.startsWith('every flag of `run`')) for (const flag of longFlags(commandNamed('run'))) flags.add(flag);
    for (const [token] of cell.matchAll(/--[a-z][a-z-]*\*?/g)) {
      if (token.endsWith('*')) for (const flag of longFlags(commandNamed(name)).filter((f) => f.startsWith(token.slice(0, -1)))) flags.add(flag);
      else flags.add(token);
    }
  }
  return [...flags].sort();
}

describe('the README documents every flag, and only real ones', () => {
  for (const name of [
    'run',
    'chat',
    'warm',
    'cache-stats',
    'cache-clear',
    'cache-list',
    'cache-show',
    'cache-delete',
    'cache-prune',
    'cache-export',
    'cache-import',
  ]) {
    it(`tinyllm ${name}`, () => {
      expect(documentedFlags(name)).toEqual(longFlags(commandNamed(name)));
    });
  }
});

describe("the run table's defaults and variables are the code's", () => {
  const rows = new Map(tableOf('run').map((row) => [row[0]?.match(/--[a-z][a-z-]*/)?.[0] ?? '', row]));
  const options = commandNamed('run').options as Option[];

  it('every environment variable', () => {
    for (const option of options.filter((o) => o.envVar !== undefined)) {
      expect(rows.get(option.long as string)?.[2], option.long).toContain(`\`${option.envVar}\``);
    }
    // TINYLLM_CACHE is read by the command itself (it needs a boolean's spellings), not by commander.
    expect(rows.get('--cache')?.[2]).toContain(`\`${ENV.cache}\``);
    for (const option of options.filter((o) => o.envVar === undefined && !['--help', '--cache'].includes(o.long as string) && !o.long?.startsWith('--no-'))) {
      expect(rows.get(option.long as string)?.[2] ?? '', option.long).toBe('');
    }
  });

  it('every default the code sets', () => {
    for (const option of options.filter((o) => o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean')) {
      expect(rows.get(option.long as string)?.[1], option.long).toContain(`\`${String(option.defaultValue)}\``);
    }
    expect(rows.get('--cache-ttl')?.[1]).toBe(`\`${DEFAULTS.cacheTtl}\``);
  });

  it("the stores' and the client's defaults it repeats", () => {
    expect(DEFAULTS.timeoutMs).toBe(OLLAMA_CLIENT_DEFAULTS.timeoutMs);
    expect(DEFAULTS.sqliteMaxEntries).toBe(SQLITE_DEFAULTS.maxEntries);
    expect(DEFAULTS.sqliteMaxBytes).toBe(SQLITE_DEFAULTS.maxBytes);
    expect(rows.get('--max-entries')?.[1]).toBe(`SQLite \`${DEFAULTS.sqliteMaxEntries}\`, memory \`${DEFAULTS.memoryMaxEntries}\``);
    expect(DEFAULTS.memoryMaxBytes).toBe(DEFAULT_MAX_BYTES);
    expect(rows.get('--max-bytes')?.[1]).toBe(`SQLite \`${DEFAULTS.sqliteMaxBytes / 1024 ** 2}MiB\`, memory \`${DEFAULTS.memoryMaxBytes / 1024 ** 2}MiB\``);
    // The memory store's default bound, by behaviour (it has no exported constant).
    const memory = new MemoryBackend();
    for (let i = 0; i <= DEFAULTS.memoryMaxEntries; i++) memory.set(`k${i}`, createEntry({ response: 'x', done: true }, { ttl: null }));
    expect(memory.stats().entries).toBe(DEFAULTS.memoryMaxEntries);
  });
});
