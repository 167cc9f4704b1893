/** `tinyllm serve`: opens the store, starts the caching proxy, and shuts it down cleanly on SIGTERM/SIGINT. */
import type { CacheBackend } from '@tinyllm/cache-core';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { createProxyLogger, InvalidKeysFileError, isLoopbackHost, type RunningProxy, startProxy } from '@tinyllm/proxy';
import { type CacheConfig, resolveOllamaHost } from '../config.js';
import { CliError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { CacheUnavailableError, type OpenedCache, openCache } from '../open-cache.js';
import type { CommandContext } from '../program.js';
import { OPERATIONS, type ServeOptions } from './serve-command.js';

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

/** Refuses a listen address that other machines can reach while the proxy has no API keys. */
function checkExposure(host: string, allowUnauthenticated: boolean | undefined, keysFile: string | undefined): void {
  if (isLoopbackHost(host) || allowUnauthenticated || keysFile !== undefined) return;
  throw new UsageError(
    `refusing to listen on ${host}: anyone who can reach that address could run your models and read every cached answer, ` +
      'and the proxy has no API keys. Pass --keys-file to require them, keep the default --host 127.0.0.1, ' +
      'or pass --allow-unauthenticated on a network you trust.',
  );
}

/** The access levels of the /tinyllm/ operations for --admin-only: listed ones admin-only, the probes public, the rest for any key. */
function opsAccessOf(adminOnly: readonly string[]): Record<string, 'public' | 'user' | 'admin'> {
  const access: Record<string, 'public' | 'user' | 'admin'> = {};
  for (const operation of OPERATIONS)
    access[operation] = adminOnly.includes(operation) ? 'admin' : operation === 'health' || operation === 'ready' ? 'public' : 'user';
  return access;
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
  checkExposure(options.host, options.allowUnauthenticated, options.keysFile);
  const upstream = resolveOllamaHost(options.upstream, env);
  checkNotItself(upstream, `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`);
  const logger = await createProxyLogger({ level: options.logLevel, format: options.logFormat });
  const store = await openStore(context.cache, options.cacheBackend);
  const cache = ollamaResponseCache(store.backend, {
    defaultTtl: context.cache.ttl,
    staleIfErrorTtl: context.cache.staleIfErrorTtl,
    logger,
    crossProcessFlight: options.crossProcessFlight,
    leaseTtlMs: options.leaseTtlMs,
  });
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
      keysFile: options.keysFile,
      opsAccess: opsAccessOf(options.adminOnly),
      ...(options.forwardAuthorization ? { forwardAuthorization: true } : {}),
      ...(options.dashboardPrompts ? { dashboardPrompts: true } : {}),
      ...(options.maxGenerations === undefined ? {} : { maxUpstreamGenerations: options.maxGenerations }),
      ...(options.maxQueue === undefined ? {} : { maxUpstreamQueue: options.maxQueue }),
      ...(context.cache.bindModelDigest ? { bindModelDigest: true } : {}),
    });
  } catch (error) {
    await cache.close().catch(() => {});
    if (InvalidKeysFileError.isInstance(error)) throw new CliError(`${error.message}. Fix --keys-file (the proxy's README shows the format).`, EXIT.usage);
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
  logger.info(
    { url: proxy.url, upstream: proxy.upstream.url, cache: store.location, tenants: proxy.handler.access.tenants.length, maxGenerations: proxy.gate.maxActive },
    'listening',
  );

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
          process.off('SIGHUP', reload);
          logger.flush?.(() => resolve(EXIT.ok));
        });
    };
    // SIGHUP reads the keys file again; a bad file keeps the old keys, and the log says why.
    const reload = (): void => {
      proxy.reloadKeys().then(
        (summary) => logger.info(summary, 'keys reloaded'),
        (error: unknown) => logger.error({ reason: error instanceof Error ? error.message : String(error) }, 'keys not reloaded: the old keys stay in force'),
      );
    };
    if (options.keysFile !== undefined) process.on('SIGHUP', reload);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
