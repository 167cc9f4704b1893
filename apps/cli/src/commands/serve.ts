/** `tinyllm serve`: opens the store, starts the caching proxy, and shuts it down cleanly on SIGTERM/SIGINT. */
import type { CacheBackend } from '@tinyllm/cache-core';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { createProxyLogger, isLoopbackHost, type RunningProxy, startProxy } from '@tinyllm/proxy';
import { type CacheConfig, resolveOllamaHost } from '../config.js';
import { CliError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { CacheUnavailableError, type OpenedCache, openCache } from '../open-cache.js';
import type { CommandContext } from '../program.js';
import type { ServeOptions } from './serve-command.js';

/** Entries of the in-process tier of memory+redis. */
const MEMORY_TIER_ENTRIES = 1000;

/** The store serve caches in: the CLI's own (sqlite, memory, redis) or a memory tier in front of Redis. */
async function openStore(config: CacheConfig, backend: string | undefined): Promise<{ backend: CacheBackend; location: string }> {
  const tiered = backend === 'memory+redis';
  let opened: OpenedCache | undefined;
  try {
    opened = await openCache(tiered ? { ...config, backend: 'redis' } : config);
  } catch (error) {
    if (error instanceof CacheUnavailableError)
      throw new CliError(`${error.withHint}. The proxy needs its store at start-up (later outages are answered without the cache).`);
    throw error;
  }
  if (opened === undefined) throw new CliError('the cache store could not be opened');
  if (!tiered) return { backend: opened.backend, location: opened.location };
  const [{ MemoryBackend }, { TieredBackend }] = await Promise.all([import('@tinyllm/cache-memory'), import('@tinyllm/cache-core')]);
  const tiers = new TieredBackend([new MemoryBackend({ maxSize: MEMORY_TIER_ENTRIES }), opened.backend]);
  return { backend: tiers, location: `memory (${MEMORY_TIER_ENTRIES} entries) in front of ${opened.location}` };
}

/** Refuses a listen address that other machines can reach while the proxy has no API keys (issue 12 adds them). */
function checkExposure(host: string, allowUnauthenticated: boolean | undefined): void {
  if (isLoopbackHost(host) || allowUnauthenticated) return;
  throw new UsageError(
    `refusing to listen on ${host}: anyone who can reach that address could run your models and read every cached answer, ` +
      'and the proxy has no API keys yet. Keep the default --host 127.0.0.1, or pass --allow-unauthenticated on a network you trust.',
  );
}

/** The proxy would forward to itself (OLLAMA_HOST set for clients, then inherited by serve). */
function checkNotItself(upstream: string, proxyUrl: string): void {
  const a = new URL(upstream);
  const b = new URL(proxyUrl);
  const local = (h: string): boolean => isLoopbackHost(h) || h === '0.0.0.0' || h === '[::]';
  if (a.port === b.port && (a.hostname === b.hostname || (local(a.hostname) && local(b.hostname)))) {
    throw new UsageError(`the upstream ${upstream} is this proxy itself (OLLAMA_HOST points at it?): pass Ollama's address with --upstream`);
  }
}

/** Runs the proxy until SIGTERM or SIGINT; resolves the exit code (0 after a clean shutdown). */
export async function serveCommand(options: ServeOptions, context: CommandContext): Promise<ExitCode> {
  const { output, env } = context;
  checkExposure(options.host, options.allowUnauthenticated);
  const upstream = resolveOllamaHost(options.upstream, env);
  checkNotItself(upstream, `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`);
  const logger = await createProxyLogger({ level: options.logLevel, format: options.logFormat });
  const store = await openStore(context.cache, options.cacheBackend);
  const cache = ollamaResponseCache(store.backend, { defaultTtl: context.cache.ttl, logger });
  let proxy: RunningProxy;
  try {
    proxy = await startProxy({
      port: options.port,
      host: options.host,
      upstream,
      upstreamTimeoutMs: options.upstreamTimeoutMs,
      bodyLimitBytes: options.bodyLimitBytes,
      shutdownGraceMs: options.shutdownGraceMs,
      cache,
      cacheLocation: store.location,
      logger,
    });
  } catch (error) {
    await cache.close().catch(() => {});
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`cannot listen on ${options.host}:${options.port}: the port is in use (another tinyllm serve?); choose one with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`cannot listen on ${options.host}: no such address on this machine`, EXIT.usage);
    throw error;
  }
  checkNotItself(upstream, proxy.url);
  const backendName = options.cacheBackend ?? context.cache.backend;
  output.line(
    `tinyllm proxy on ${proxy.url} (Ollama at ${proxy.upstream.url}, ${backendName} cache: ${store.location}); point clients at it: OLLAMA_HOST=${proxy.url}`,
  );
  logger.info({ url: proxy.url, upstream: proxy.upstream.url, cache: store.location }, 'listening');

  return new Promise<ExitCode>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: stop waiting.
        logger.warn({ signal }, 'second signal: exiting now');
        logger.flush?.();
        process.exit(EXIT.failure);
      }
      stopping = true;
      logger.info({ signal, inFlight: proxy.counters.inFlight }, 'shutting down: finishing requests in flight');
      proxy
        .close()
        .then(
          (drained) => logger.info({ drained }, drained ? 'stopped' : 'stopped: requests still running at the end of the grace period were cut'),
          (error: unknown) => logger.error({ err: error }, 'shutdown failed'),
        )
        .finally(() => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          logger.flush?.(() => resolve(EXIT.ok));
        });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
