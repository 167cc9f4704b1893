/**
 * The result model every group returns and its two renderings: aligned text for the terminal and
 * Markdown for docs/benchmarks.md. Both come from the same Section objects, so they cannot disagree.
 */

/** A target line: what was measured against what it should be. pass null = could not be measured. */
export interface Target {
  name: string;
  measured: string;
  goal: string;
  pass: boolean | null;
}

export interface Section {
  title: string;
  header: string[];
  rows: string[][];
  targets: Target[];
  /** Short facts printed under the table (what was measured, caveats, diagnosis). */
  notes: string[];
}

export const status = (pass: boolean | null): string => (pass === null ? 'n/a' : pass ? 'PASS' : 'MISS');

export const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');
export const fmtOps = (x: number): string =>
  !Number.isFinite(x) ? 'n/a' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1);
export const fmtUs = (x: number): string => (!Number.isFinite(x) ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} us`);
export const fmtMs = (x: number): string => (!Number.isFinite(x) ? 'n/a' : `${x.toFixed(1)} ms`);
export const fmtBytes = (x: number): string => (!Number.isFinite(x) ? 'n/a' : x >= 1024 * 1024 ? `${(x / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(x)} B`);
/** Spread of the rounds as +-% around the median: how much to trust a ratio. */
export const fmtSpread = (median: number, min: number, max: number): string =>
  Number.isFinite(median) && median > 0 ? `-${(((median - min) / median) * 100).toFixed(0)}%/+${(((max - median) / median) * 100).toFixed(0)}%` : 'n/a';

function pad(cells: string[][]): string[] {
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return cells.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export function renderText(sections: readonly Section[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push('', `== ${s.title}`);
    const lines = pad([s.header, ...s.rows]);
    out.push(lines[0] ?? '', '-'.repeat((lines[0] ?? '').length), ...lines.slice(1));
    if (s.targets.length) {
      out.push('targets:');
      out.push(...pad(s.targets.map((t) => [`  [${status(t.pass)}]`, t.name, t.measured, `(goal ${t.goal})`])));
    }
    for (const note of s.notes) out.push(`  * ${note}`);
  }
  return out.join('\n');
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

export function renderMarkdown(sections: readonly Section[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`### ${s.title}`, '');
    out.push(`| ${s.header.map(cell).join(' | ')} |`, `| ${s.header.map(() => '---').join(' | ')} |`);
    for (const row of s.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
    out.push('');
    if (s.targets.length) {
      out.push('| target | measured | goal | status |', '| --- | --- | --- | --- |');
      for (const t of s.targets) out.push(`| ${cell(t.name)} | ${cell(t.measured)} | ${cell(t.goal)} | **${status(t.pass)}** |`);
      out.push('');
    }
    for (const note of s.notes) out.push(`- ${note}`);
    if (s.notes.length) out.push('');
  }
  return out.join('\n');
}
