import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from './errors.js';

/** Reads all of stdin as UTF-8. */
async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The text without a leading UTF-8 byte order mark (Windows editors write one; it is not part of the text). */
const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/**
 * The text of a file, or of stdin for "-", without a leading byte order mark. Reading a terminal's stdin is refused (usage error: the
 * command would wait for input nobody meant to type); a missing or unreadable file is a runtime failure.
 */
export async function readInput(source: string, what: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (source === '-') {
    if (stdin.isTTY) throw new UsageError(`${what} is "-" (stdin), but stdin is a terminal: pipe it in, e.g. cat file | tinyllm ...`);
    return withoutBom(await readStdin(stdin));
  }
  try {
    return withoutBom(await readFile(source, 'utf8'));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read ${what} ${source}: ${reason}`);
  }
}
