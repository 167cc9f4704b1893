// The last key asked about and its prefix: a hit asks for one key's prefix two or three times (the
// X-TinyLLM-Key header, the log line, the dashboard's activity), and repeated hits for the same one.
let lastKey = '';
let lastPrefix = '';

/** How a cache key is shown (X-TinyLLM-Key, logs): the first 16 hex characters of its hash, without the namespace. */
export function keyPrefixOf(key: string): string {
  if (key === lastKey) return lastPrefix;
  const start = key.lastIndexOf(':') + 1;
  lastKey = key;
  lastPrefix = key.slice(start, start + 16);
  return lastPrefix;
}
