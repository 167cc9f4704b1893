import { createServer } from 'node:net';

/** Binds 127.0.0.1:port (0 = any) and returns the bound port, or undefined when it is taken. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** A free loopback port that nothing listens on (picked by the OS, then released). */
export async function unusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryBind(0);
    if (port !== undefined) return port;
  }
  throw new Error('redis-harness: could not find a free loopback port');
}

/** A free port P whose cluster bus port P + 10000 is free too (both below 65536). */
export async function unusedClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if ((await tryBind(port)) === undefined) continue;
    if ((await tryBind(port + 10000)) === undefined) continue;
    return port;
  }
  throw new Error('redis-harness: could not find a free port pair for a cluster node');
}
