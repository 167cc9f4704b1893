import { createServer, type Socket } from 'node:net';

/** A TCP server that accepts connections and never replies (a hung Redis). */
export interface SilentServerHandle {
  host: string;
  port: number;
  /** Destroys open connections and stops listening. */
  close(): Promise<void>;
}

/** Starts a TCP server on a free loopback port that accepts and never answers. */
export function startSilentServer(): Promise<SilentServerHandle> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) {
        reject(new Error('redis-harness: silent server has no address'));
        return;
      }
      resolve({
        host: '127.0.0.1',
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
