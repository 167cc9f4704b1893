import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from './errors.js';

/** Reads all of stdin as bytes. */
async function readStdin(stdin: NodeJS.ReadStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no cut-off sequence), or -1.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // How many continuation bytes follow, and the range the first of them must fall in.
    let follow: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) follow = 1;
    else if (lead === 0xe0) [follow, low] = [2, 0xa0];
    else if (lead === 0xed) [follow, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) follow = 2;
    else if (lead === 0xf0) [follow, low] = [3, 0x90];
    else if (lead === 0xf4) [follow, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) follow = 3;
    else return i;
    for (let k = 1; k <= follow; k++) {
      const byte = bytes[i + k];
      if (byte === undefined || byte < (k === 1 ? low : 0x80) || byte > (k === 1 ? high : 0xbf)) return i;
    }
    i += follow + 1;
  }
  return -1;
}

/**
 * The bytes as text. Invalid UTF-8 is refused (usage error naming the byte and its offset): decoding
 * would replace it with U+FFFD, and two different inputs would then ask, and be cached as, one question.
 */
export function decodeUtf8(bytes: Buffer, what: string): string {
  if (!isUtf8(bytes)) {
    const offset = invalidUtf8Offset(bytes);
    const byte = `0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}`;
    throw new UsageError(
      `${what} is not valid UTF-8 (byte ${byte} at offset ${offset}): tinyllm reads text as UTF-8; convert it first, e.g. iconv -f latin1 -t utf-8`,
    );
  }
  return bytes.toString('utf8');
}

/** The text without a leading UTF-8 byte order mark (Windows editors write one; it is not part of the text). */
const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Why a file cannot be read, in a few words. */
function unreadable(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
}

/**
 * The text of a file, or of stdin for "-", without a leading byte order mark. Reading a terminal's
 * stdin is refused (usage error: the command would wait for input nobody meant to type), and so is
 * text that is not UTF-8; a missing or unreadable file is a runtime failure.
 */
export async function readInput(source: string, what: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (source === '-') {
    if (stdin.isTTY) throw new UsageError(`${what} is "-" (stdin), but stdin is a terminal: pipe it in, e.g. cat file | tinyllm ...`);
    return withoutBom(decodeUtf8(await readStdin(stdin), `${what} on stdin`));
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (error) {
    throw new CliError(`cannot read ${what} ${source}: ${unreadable(error)}`);
  }
  return withoutBom(decodeUtf8(bytes, `${what} ${source}`));
}

/** An image file as base64 (for --image); a missing or unreadable file is a runtime failure naming the flag. */
export async function readImage(path: string): Promise<string> {
  try {
    return (await readFile(path)).toString('base64');
  } catch (error) {
    throw new CliError(`cannot read --image ${path}: ${unreadable(error)}`);
  }
}
