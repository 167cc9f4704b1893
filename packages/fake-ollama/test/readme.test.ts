import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../src/admin.js';
import { USAGE } from '../src/cli-args.js';
import { resolveOptions } from '../src/options.js';

// The README documents every option, flag and admin route the code has (and no others).
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function tableNames(heading: string): string[] {
  const section = readme.split(`## ${heading}`)[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1] as string);
}

describe('README', () => {
  it('lists exactly the options startFakeOllama resolves', () => {
    expect(tableNames('Options').sort()).toEqual(Object.keys(resolveOptions({})).sort());
  });

  it('lists exactly the flags of --help', () => {
    const flags = new Set([...USAGE.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]));
    const documented = new Set(tableNames('Command line').map((n) => n.replace(/^-h, /, '').split(' ')[0]));
    expect(documented).toEqual(flags);
  });

  it('lists every admin route', () => {
    for (const route of ADMIN_ROUTES) expect(readme).toContain(`\`${route}\``);
  });
});
