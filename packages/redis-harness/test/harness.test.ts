import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRedisServer, sendCommand, startRedisCluster, startRedisSentinel, startRedisServer, startSilentServer, unusedPort } from '../src/index.js';

const hasRedis = requireRedisServer() !== undefined;

function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('unusedPort / startSilentServer', () => {
  it('unusedPort refuses connections', async () => {
    const port = await unusedPort();
    expect(port).toBeGreaterThan(0);
    expect(await connectResult(port)).toBe('ECONNREFUSED');
  });

  it('a silent server accepts and never answers', async () => {
    const silent = await startSilentServer();
    try {
      await expect(sendCommand(silent.host, silent.port, ['PING'], { timeoutMs: 200 })).rejects.toThrow(/no reply/);
    } finally {
      await silent.close();
    }
  });
});

describe.skipIf(!hasRedis)('startRedisServer', () => {
  const handles: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop()));
  });

  it('starts, answers PING, kills, restarts on the same port and stops', async () => {
    const server = await startRedisServer();
    handles.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await sendCommand(server.host, server.port, ['PING'])).toBe('PONG');
    await sendCommand(server.host, server.port, ['SET', 'k', 'v']);
    await server.kill();
    expect(await connectResult(server.port)).toBe('ECONNREFUSED');
    await server.start();
    expect(await sendCommand(server.host, server.port, ['GET', 'k'])).toBeNull(); // no persistence
    await server.restart();
    expect(await sendCommand(server.host, server.port, ['PING'])).toBe('PONG');
    await server.pause();
    await expect(sendCommand(server.host, server.port, ['PING'], { timeoutMs: 200 })).rejects.toThrow(/no reply/);
    await server.resume();
    expect(await sendCommand(server.host, server.port, ['PING'])).toBe('PONG');
    await server.pause();
    await server.stop();
    await server.stop();
    expect(await connectResult(server.port)).toBe('ECONNREFUSED');
  });

  it('requires the password it was given', async () => {
    const server = await startRedisServer({ password: 's3cret' });
    handles.push(server);
    await expect(sendCommand(server.host, server.port, ['PING'])).rejects.toThrow(/NOAUTH/);
    expect(await sendCommand(server.host, server.port, ['PING'], { password: 's3cret' })).toBe('PONG');
    expect(server.url).toBe(`redis://:s3cret@127.0.0.1:${server.port}`);
  });

  it('starts a sentinel that reports its master', async () => {
    const master = await startRedisServer({ local: true });
    handles.push(master);
    const sentinel = await startRedisSentinel(master);
    handles.push(sentinel);
    expect(await sendCommand(sentinel.host, sentinel.port, ['SENTINEL', 'get-master-addr-by-name', 'mymaster'])).toEqual(['127.0.0.1', String(master.port)]);
  });
});

describe.skipIf(!hasRedis)('startRedisCluster', () => {
  it('starts three masters that cover every slot', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.nodes).toHaveLength(3);
      for (const node of cluster.nodes) {
        const info = await sendCommand(node.host, node.port, ['CLUSTER', 'INFO']);
        expect(info).toContain('cluster_state:ok');
        expect(info).toContain('cluster_slots_assigned:16384');
      }
    } finally {
      await cluster.stop();
    }
  });
});
