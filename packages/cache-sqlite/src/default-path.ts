import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where the cache lives when no path is given: `$XDG_CACHE_HOME/tinyllm/cache.sqlite`, else
 * `~/.cache/tinyllm/cache.sqlite` (`%LOCALAPPDATA%\tinyllm\cache.sqlite` on Windows). Pure: the
 * backend creates the directory when it opens the file.
 */
export function defaultCachePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'tinyllm', 'cache.sqlite');
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'tinyllm', 'cache.sqlite');
  return join(homedir(), '.cache', 'tinyllm', 'cache.sqlite');
}
