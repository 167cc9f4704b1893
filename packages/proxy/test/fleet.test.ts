import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { type RedisClusterHandle, type RedisServerHandle, requireRedisServer, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Reply, send, waitFor } from './helpers.js';

// Several proxies, each its own process, on one Redis: a fleet behind a load balancer. The fake
// Ollama holds each generation for a while (latency before the first byte, then paced tokens), so
// the requests below arrive while the one generation is in flight.
const CHILD = fileURLToPath(new URL('./fixtures/fleet-child.mjs', import.meta.url));
const available = requireRedisServer() !== undefined;
const QUESTION = { model: 'llama3.2', prompt: 'Why do fleets share one cache?' };

interface Member {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  stderr: () => string;
}

function startMember(upstream: string, options: Record<string, unknown>): Promise<Member> {
  const child = fork(CHILD, [upstream, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url?: string }) => {
      if (message.url !== undefined) resolve({ child, url: message.url, exited, stderr: () => stderr });
    });
    void exited.then(() => reject(new Error(`a fleet proxy exited before listening: ${stderr}`)));
  });
}

async function stopMember(member: Member): Promise<void> {
  if (member.child.exitCode === null && member.child.signalCode === null) {
    member.child.send('close');
    const timer = setTimeout(() => member.child.kill('SIGKILL'), 5_000);
    await member.exited;
    clearTimeout(timer);
  }
}

/** Asks one question; stream: NDJSON chunks, else one JSON answer. */
function ask(base: string, stream: boolean): Promise<Reply> {
  return send(base, '/api/generate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...QUESTION, stream, options: { temperature: 0 } }),
  });
}

/** The whole answer text of a reply, or why it is not whole. */
function answerOf(reply: Reply, stream: boolean): string {
  expect(reply.status, reply.text).toBe(200);
  if (!stream) {
    const body = JSON.parse(reply.text) as { response: string; done: boolean };
    expect(body.done).toBe(true);
    return body.response;
  }
  const chunks = reply.text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { response: string; done: boolean });
  expect(chunks.at(-1)?.done, 'the stream ends with the final chunk').toBe(true);
  return chunks.map((chunk) => chunk.response).join('');
}

/** A counter of a proxy's Prometheus text. */
async function metricOf(base: string, name: string): Promise<number> {
  const reply = await send(base, '/tinyllm/metrics');
  const line = reply.text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

const countOf = (replies: Reply[], value: string): number => replies.filter((reply) => reply.headers['x-cache'] === value).length;

describe.skipIf(!available)('a fleet of proxies on one Redis: cross-process single flight', () => {
  let fake: FakeOllamaServer;
  let server: RedisServerHandle;
  let cluster: RedisClusterHandle;
  const members: Member[] = [];
  beforeAll(async () => {
    [fake, server, cluster] = await Promise.all([
      startFakeOllama({ latencyMs: 1500, tokensPerSecond: 50 }),
      startRedisServer({ local: true }),
      startRedisCluster(),
    ]);
  });
  afterAll(() => Promise.all([fake?.close(), server?.stop(), cluster?.stop()]));
  afterEach(async () => {
    await Promise.all(members.splice(0).map(stopMember));
    fake.resetCounts();
    fake.setLatency(1500);
  });
  const fleet = async (count: number, options: Record<string, unknown>): Promise<Member[]> => {
    const keyPrefix = `tinyllm:fleet:${randomUUID()}:`;
    const started = await Promise.all(Array.from({ length: count }, () => startMember(fake.url, { keyPrefix, ...options })));
    members.push(...started);
    return started;
  };

  for (const mode of ['standalone', 'cluster'] as const) {
    it(`${mode}: 400 identical requests (streaming and not) over four proxies make one upstream call; every client gets the whole answer`, async () => {
      const proxies = await fleet(4, mode === 'standalone' ? { redisUrl: server.url } : { clusterNodes: cluster.nodes });
      const first = ask(proxies[0]?.url as string, true);
      await waitFor(() => fake.modelCallsInFlight() === 1, 10_000, 'the first generation to start');
      const replies = await Promise.all(Array.from({ length: 400 }, (_, i) => ask(proxies[i % 4]?.url as string, i % 2 === 0)));
      const leader = await first;
      expect(fake.modelCalls()).toBe(1);
      const whole = answerOf(leader, true);
      expect(whole.length).toBeGreaterThan(0);
      replies.forEach((reply, i) => {
        expect(answerOf(reply, i % 2 === 0)).toBe(whole);
      });
      expect(leader.headers['x-cache']).toBe('MISS');
      expect(countOf(replies, 'MISS')).toBe(0);
      // The leader's proxy shared its live call; the other three waited on the lease and read the entry.
      expect(countOf(replies, 'COALESCED') + countOf(replies, 'HIT')).toBe(400);
      const remote = await Promise.all(proxies.map((p) => metricOf(p.url, 'tinyllm_cache_coalesced_remote_total')));
      expect(remote.reduce((a, b) => a + b, 0)).toBe(3);
      expect(remote[0]).toBe(0);
      const errors = await Promise.all(proxies.map((p) => metricOf(p.url, 'tinyllm_cache_errors_total')));
      expect(errors, proxies.map((p) => p.stderr()).join('')).toEqual([0, 0, 0, 0]);
    }, 60_000);
  }

  it('the leader proxy killed mid-generation: another one takes over, and every waiting request gets the whole answer', async () => {
    const proxies = await fleet(3, { redisUrl: server.url, leaseTtlMs: 400 });
    const [leader, ...others] = proxies as [Member, Member, Member];
    const doomed = ask(leader.url, true).catch(() => undefined);
    await waitFor(() => fake.modelCallsInFlight() === 1, 10_000, 'the first generation to start');
    const waiting = Array.from({ length: 40 }, (_, i) => ask((others[i % 2] as Member).url, i % 2 === 0));
    await new Promise((resolve) => setTimeout(resolve, 200));
    leader.child.kill('SIGKILL');
    await leader.exited;
    const replies = await Promise.all(waiting);
    await doomed;
    const texts = replies.map((reply, i) => answerOf(reply, i % 2 === 0));
    expect(new Set(texts).size).toBe(1);
    // The dead leader's call, then exactly one takeover that the rest followed.
    expect(fake.modelCalls()).toBe(2);
    expect(countOf(replies, 'MISS')).toBe(1);
  }, 60_000);

  it('Redis killed during the load: no request fails (they go to Ollama), and the cache errors are counted', async () => {
    const doomedRedis = await startRedisServer({ local: true });
    try {
      fake.setLatency(800);
      const proxies = await fleet(4, { redisUrl: doomedRedis.url });
      const replies = Array.from({ length: 400 }, (_, i) => ask(proxies[i % 4]?.url as string, i % 2 === 0));
      await waitFor(() => fake.modelCallsInFlight() >= 1, 10_000, 'a generation to start');
      await doomedRedis.kill();
      const done = await Promise.all(replies);
      const texts = done.map((reply, i) => answerOf(reply, i % 2 === 0));
      expect(new Set(texts).size).toBe(1);
      const errors = await Promise.all(proxies.map((p) => metricOf(p.url, 'tinyllm_cache_errors_total')));
      expect(errors.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    } finally {
      await doomedRedis.stop();
    }
  }, 60_000);
});
