import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { MemoryBackend } from './memory-backend.js';

runConformanceSuite('memory', {
  lists: true,
  createBackend: () => new MemoryBackend(),
  createBoundedBackend: ({ maxEntries }) => new MemoryBackend({ maxSize: maxEntries }),
  staleIfError: true,
});
