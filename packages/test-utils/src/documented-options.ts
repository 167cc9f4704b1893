import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** An option as the code or a README documents it: its name and its default, as written. */
export interface DocumentedOption {
  /** The option's name. */
  name: string;
  /** The default: the JSDoc `@default` text, or the README's default column (backticks removed). */
  default: string;
}

const byName = (a: DocumentedOption, b: DocumentedOption): number => a.name.localeCompare(b.name);

/**
 * The options of an exported interface (inherited ones included), each with its `@default` tag,
 * read from the TypeScript source with the compiler's type checker. An option without a `@default`
 * tag throws: every option documents its default (`@default none` when there is none). Sorted by name.
 */
export function optionsOfInterface(sourceFile: string, interfaceName: string): DocumentedOption[] {
  const program = ts.createProgram([sourceFile], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(sourceFile);
  if (source === undefined) throw new Error(`cannot read ${sourceFile}`);
  const declaration = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === interfaceName,
  );
  if (declaration === undefined) throw new Error(`no interface ${interfaceName} in ${sourceFile}`);
  const type = checker.getTypeAtLocation(declaration.name);
  return checker
    .getPropertiesOfType(type)
    .map((property) => {
      const tag = property.getJsDocTags(checker).find((candidate) => candidate.name === 'default');
      if (tag === undefined) throw new Error(`${interfaceName}.${property.name} has no @default tag`);
      return { name: property.name, default: ts.displayPartsToString(tag.text).trim() };
    })
    .sort(byName);
}

// The cells of a table row; an escaped pipe (`A \| B`, as in a union type) stays inside its cell.
const cells = (row: string): string[] =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());

/**
 * The rows of the first Markdown table after `heading` (a line of the README, e.g. "## Options")
 * whose header has an "option" and a "default" column (any case): each row's option name and default,
 * backticks removed. Sorted by name.
 */
export function optionsTableOf(readmeFile: string, heading: string): DocumentedOption[] {
  const lines = readFileSync(readmeFile, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`no heading "${heading}" in ${readmeFile}`);
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim().startsWith('|')) continue;
    const header = cells(line).map((cell) => cell.toLowerCase());
    const nameColumn = header.indexOf('option');
    const defaultColumn = header.indexOf('default');
    if (nameColumn < 0 || defaultColumn < 0) throw new Error(`the table after "${heading}" in ${readmeFile} has no option and default columns`);
    const rows: DocumentedOption[] = [];
    for (let j = i + 2; j < lines.length && (lines[j] as string).trim().startsWith('|'); j++) {
      const row = cells(lines[j] as string);
      const unquote = (cell: string | undefined): string => (cell ?? '').replace(/`/g, '');
      rows.push({ name: unquote(row[nameColumn]), default: unquote(row[defaultColumn]) });
    }
    return rows.sort(byName);
  }
  throw new Error(`no table after "${heading}" in ${readmeFile}`);
}
