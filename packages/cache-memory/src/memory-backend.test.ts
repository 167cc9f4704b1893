import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { MemoryBackend } from './memory-backend.js';

runConformanceSuite('memory', {
  createBackend: () => new MemoryBackend(),
  createBoundedBackend: ({ maxEntries }) => new MemoryBackend({ maxSize: maxEntries }),
  staleIfError: true,
});
