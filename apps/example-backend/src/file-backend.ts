import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendClosedError, type BackendStats, type CacheBackend, type CacheEntry, decodeEntry, encodeEntry, isExpired } from '@tinyllm/cache-core';

/**
 * A backend as a stranger would write one: each entry is a file in `<directory>/<namespace>/`.
 * It uses only @tinyllm/cache-core's published entry point, and its own test is a few lines that
 * run the conformance suite.
 */
export class FileBackend implements CacheBackend {
  readonly name = 'file';
  readonly capabilities = { persistent: true, shared: true };
  readonly #dir: string;
  #closed = false;

  constructor(directory: string, namespace = 'default') {
    this.#dir = join(directory, encodeURIComponent(namespace));
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const raw = await readFile(this.#path(this.#check('get', key)), 'utf8').catch(() => undefined);
    if (raw === undefined) return undefined;
    const entry = decodeEntry(raw);
    return isExpired(entry) ? undefined : entry;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    const path = this.#path(this.#check('set', key));
    if (isExpired(entry)) return void (await rm(path, { force: true }));
    await mkdir(this.#dir, { recursive: true });
    // Write then rename: a reader never sees half a file, and the last rename wins whole.
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, encodeEntry(entry));
    await rename(temporary, path);
  }

  async delete(key: string): Promise<boolean> {
    const existed = await this.has(key);
    await rm(this.#path(key), { force: true });
    return existed;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<number> {
    this.#check('clear');
    const files = await this.#files();
    await rm(this.#dir, { recursive: true, force: true });
    return files.length;
  }

  async stats(): Promise<BackendStats> {
    this.#check('stats');
    let entries = 0;
    for (const file of await this.#files()) {
      if (await this.has(decodeURIComponent(file))) entries++;
    }
    return { entries };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(operation: string, key = ''): string {
    if (this.#closed) throw new BackendClosedError(this.name, operation);
    return key;
  }

  #path(key: string): string {
    return join(this.#dir, encodeURIComponent(key));
  }

  async #files(): Promise<string[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    return names.filter((name) => !name.endsWith('.tmp'));
  }
}
