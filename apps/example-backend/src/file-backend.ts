import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CacheBackend, decodeEntry, defineBackend, encodeEntry } from '@tinyllm/cache-core';

/**
 * A backend as a stranger would write one: each entry is a file in `<directory>/<namespace>/`.
 * It uses only @tinyllm/cache-core's published entry point: defineBackend() supplies the closed
 * state, expiry, has(), the JSON rule and namespaced clear/stats, so only the storage is left here;
 * its own test is a few lines that run the conformance suite.
 */
export function createFileBackend(directory: string, namespace = 'default'): CacheBackend {
  const dir = join(directory, encodeURIComponent(namespace));
  const pathOf = (key: string): string => join(dir, encodeURIComponent(key));
  const files = async (keyPrefix: string | undefined): Promise<string[]> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((name) => !name.endsWith('.tmp') && (keyPrefix === undefined || decodeURIComponent(name).startsWith(keyPrefix)));
  };
  return defineBackend({
    name: 'file',
    capabilities: { persistent: true, shared: true },
    async get(key) {
      const raw = await readFile(pathOf(key), 'utf8').catch(() => undefined);
      return raw === undefined ? undefined : decodeEntry(raw);
    },
    async set(key, entry, valueJson) {
      await mkdir(dir, { recursive: true });
      // Write then rename: a reader never sees half a file, and the last rename wins whole.
      const temporary = `${pathOf(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(temporary, encodeEntry(entry, valueJson));
      await rename(temporary, pathOf(key));
    },
    async delete(key) {
      return rm(pathOf(key)).then(
        () => true,
        () => false,
      );
    },
    async clear(keyPrefix) {
      const names = await files(keyPrefix);
      await Promise.all(names.map((name) => rm(join(dir, name), { force: true })));
      return names.length;
    },
    async stats(keyPrefix) {
      return { entries: (await files(keyPrefix)).length };
    },
  });
}
