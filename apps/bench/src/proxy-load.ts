/**
 * The proxy group's load generator, in its own process: `node --import tsx proxy-load.ts`. It
 * answers {url, seconds} messages with autocannon's figures for one run (50 connections, POST with
 * the ~300 B body), so one process serves every run and no run pays a process start.
 */
import autocannon from 'autocannon';
import { requestBody } from './proxy-servers.js';

const body = requestBody();
// The parent went away (killed at its timeout, say): nothing must outlive it.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: { url: string; seconds: number; body?: string }) => {
  // The mean latency from each response's own time (a float, in ms): autocannon's histogram keeps
  // whole milliseconds, and a cached hit's latency is a fraction of one.
  let latencySum = 0;
  let responses = 0;
  const instance = autocannon(
    {
      url: message.url,
      connections: 50,
      duration: message.seconds,
      method: 'POST',
      body: message.body ?? body,
      headers: { 'content-type': 'application/json' },
    },
    (error, result) => {
      if (error) {
        process.send?.({ error: String(error) });
        return;
      }
      process.send?.({
        rps: result.requests.average,
        total: result.requests.total,
        meanMs: responses === 0 ? result.latency.average : latencySum / responses,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    },
  );
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode < 200 || statusCode >= 300) return;
    latencySum += responseTime;
    responses++;
  });
});
process.send?.({ ready: true });
