import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** The message a CI run fails with when redis-server is not installed. */
export const INSTALL_MESSAGE = 'redis-server not found: install it with `apt-get install redis-server` (or set REDIS_SERVER_BIN)';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on PATH (or returns undefined). */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Path to redis-server (REDIS_SERVER_BIN, then PATH), or undefined when there is none. */
export function findRedisServer(): string | undefined {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : undefined;
  return which('redis-server');
}

/** Path to redis-cli (beside redis-server first, then PATH), or undefined. */
export function findRedisCli(): string | undefined {
  const server = findRedisServer();
  if (server) {
    const beside = join(dirname(server), 'redis-cli');
    if (isExecutable(beside)) return beside;
  }
  return which('redis-cli');
}

const isCi = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
};

let warned = false;

/**
 * Path to redis-server for suites that need one. Missing under CI → throws (the suite fails with the
 * install message); elsewhere → undefined plus one console message, so suites can `describe.skipIf`.
 */
export function requireRedisServer(): string | undefined {
  const path = findRedisServer();
  if (path) return path;
  if (isCi()) throw new Error(INSTALL_MESSAGE);
  if (!warned) {
    warned = true;
    console.warn(`[redis-harness] skipping Redis suites: ${INSTALL_MESSAGE}`);
  }
  return undefined;
}
