export { CACHE_OPTIONS_COVERED, type CacheUnderTest, describeCacheOptions } from './cache-options-suite.js';
export { type DocumentedOption, optionsOfInterface, optionsTableOf } from './documented-options.js';
export { type Fixtures, test } from './fixtures.js';
export { collectGarbage, heapGrowthOf, liveHeapBytes } from './heap.js';
export { type LogLevel, type LogMethod, type LogRecord, type RecordingLogger, recordingLogger } from './logger.js';
export { createTempDir, type TempDir } from './temp-dir.js';
export { sleep, waitFor } from './timing.js';
