/**
 * A private, throwaway redis-server for the redis group, from @tinyllm/redis-harness: never the
 * shared one on 6379, never FLUSHALL/FLUSHDB. Its pid lets run.ts pin it for the latency rows.
 */
import { sendCommand, startRedisServer } from '@tinyllm/redis-harness';

/** The running server. */
export interface PrivateRedis {
  url: string;
  /** redis-server's process id, when it could be read. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts a private redis-server (ignoring REDIS_URL) and pins it to its own CPU where possible. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  // extraArgs (even empty) makes the harness ignore REDIS_URL and always spawn a private server.
  const handle = await startRedisServer({ extraArgs: [] });
  const info = await sendCommand(handle.host, handle.port, ['INFO', 'server']);
  const pid = Number(/process_id:(\d+)/.exec(String(info))?.[1]);
  return { url: handle.url, pid: Number.isInteger(pid) ? pid : undefined, stop: () => handle.stop() };
}
