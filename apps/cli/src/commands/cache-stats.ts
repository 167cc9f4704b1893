import type { BackendStats, SharedCounters } from '@tinyllm/cache-core';
import { buildCacheStatsReport, type CacheStatsReport } from '@tinyllm/ollama-cached';
import { DEFAULTS } from '../config.js';
import { describeError, EXIT, type ExitCode } from '../errors.js';
import { formatBytes, formatCount, formatDuration, formatPercent, formatTimestamp } from '../format.js';
import { closeQuietly, openExistingStore, sqlitePathOf } from '../open-cache.js';
import type { CommandContext } from '../program.js';

/** Options of `tinyllm cache-stats` (besides the store options in the context). */
export interface CacheStatsOptions {
  /** Print JSON instead of the table. */
  json?: boolean;
}

/** What cache-stats reports (also its --json shape); built by @tinyllm/ollama-cached, which the proxy's /tinyllm/stats shares. */
export type { CacheStatsReport };

/** Builds the report from the backend's stats and the store's shared counters. */
export function buildReport(
  backend: string,
  location: string,
  exists: boolean,
  stats: BackendStats | undefined,
  counters: SharedCounters | undefined,
): CacheStatsReport {
  return buildCacheStatsReport({ backend, location, exists, stats, counters });
}

/** The human-readable table of a report. */
export function renderReport(report: CacheStatsReport, bold: (text: string) => string = (t) => t): string {
  const rows: Array<[string, string]> = [
    [
      'entries',
      `${formatCount(report.entries)}${report.bytes === null ? '' : ` (${formatBytes(report.bytes)})`}${report.staleEntries > 0 ? `, ${formatCount(report.staleEntries)} kept for stale-if-error` : ''}`,
    ],
    ['hits', formatCount(report.hits)],
    ['misses', formatCount(report.misses)],
    ['hit rate', formatPercent(report.hitRate)],
    ['sets', formatCount(report.sets)],
    ['evictions', formatCount(report.evictions)],
    ['errors', formatCount(report.errors)],
    ['stale', `${formatCount(report.stale)} expired answers served when the model failed`],
    ['oldest', report.oldestCreatedAt === null ? '-' : formatTimestamp(Date.parse(report.oldestCreatedAt))],
    ['newest', report.newestCreatedAt === null ? '-' : formatTimestamp(Date.parse(report.newestCreatedAt))],
    ['saved', `${formatDuration(report.savedMs)} of model time, ${formatCount(report.savedTokens)} tokens`],
  ];
  const head = `${bold(`${report.backend} cache`)}  ${report.location}${report.exists ? '' : ' (not created yet)'}`;
  const lines = [head, ...rows.map(([label, value]) => `  ${label.padEnd(10)}  ${value}`)];
  if (report.byModel.length > 0) lines.push('', bold('by model'), ...modelTable(report.byModel));
  return lines.join('\n');
}

/** The per-model lines of the table: model, hits, misses, hit rate, time and tokens saved. */
function modelTable(rows: CacheStatsReport['byModel']): string[] {
  const cells = [
    ['model', 'hits', 'misses', 'hit rate', 'saved', 'tokens'],
    ...rows.map((row) => [
      row.model,
      formatCount(row.hits),
      formatCount(row.misses),
      formatPercent(row.hitRate),
      formatDuration(row.savedMs),
      formatCount(row.savedTokens),
    ]),
  ];
  const widths = (cells[0] as string[]).map((_, i) => Math.max(...cells.map((line) => (line[i] as string).length)));
  return cells.map((line) => `  ${line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')}`);
}

/** `tinyllm cache-stats`: entries, hits, misses, hit rate, evictions, errors, age, savings. */
export async function cacheStatsCommand(options: CacheStatsOptions, context: CommandContext): Promise<ExitCode> {
  const { output, cache } = context;
  const store = await openExistingStore(cache, output);
  if (store.kind === 'failed') return EXIT.failure;
  const opened = store.kind === 'open' ? store.opened : undefined;
  let report: CacheStatsReport;
  if (opened === undefined) {
    report = buildReport(cache.backend, await sqlitePathOf(cache), false, undefined, undefined);
  } else {
    try {
      report = buildReport(opened.kind, opened.location, true, await opened.stats(), await opened.counters());
    } catch (error) {
      // A damaged or locked SQLite file, a Redis server that failed after connecting...
      const described = describeError(error, { ollamaHost: DEFAULTS.ollamaHost, store: { kind: opened.kind, location: opened.location } });
      output.error(described.message);
      return described.exitCode;
    } finally {
      await closeQuietly(opened);
    }
  }
  if (options.json) {
    output.json(report);
  } else {
    output.line(renderReport(report, output.out.bold));
  }
  if (cache.backend === 'memory') {
    output.info(
      output.err.dim(
        'note: the memory backend lives inside one process, so a new process has nothing to show; use sqlite or redis to share answers between runs',
      ),
    );
  }
  return EXIT.ok;
}
