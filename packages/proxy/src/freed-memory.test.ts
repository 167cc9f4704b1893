import { afterEach, expect, it } from 'vitest';
import { onGlibc } from './freed-memory.js';

const original = Error.prepareStackTrace;
afterEach(() => {
  Error.prepareStackTrace = original;
});

// Under source maps, formatting a stack parsed the proxy bundle's whole map (~20 MB of heap kept for
// good); the glibc check must not format one. A counting prepareStackTrace sees any that it does.
it('asks glibc without formatting a JavaScript stack', () => {
  let formatted = 0;
  Error.prepareStackTrace = (error: Error) => {
    formatted++;
    return String(error);
  };
  const glibc = onGlibc();
  Error.prepareStackTrace = original;
  expect(formatted).toBe(0);
  expect(glibc).toBe(
    process.platform === 'linux' &&
      typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string',
  );
});
