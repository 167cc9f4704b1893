/** How a cache key is shown (X-TinyLLM-Key, logs): the first 16 hex characters of its hash, without the namespace. */
export function keyPrefixOf(key: string): string {
  const start = key.lastIndexOf(':') + 1;
  return key.slice(start, start + 16);
}
