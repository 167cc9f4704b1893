import { DEFAULT_AFTER_CHUNKS, defaultFaultMessage, MIDSTREAM_ERROR } from '../faults.js';
import { nowNs, sleep } from '../http.js';
import type { ModelCall } from './context.js';

/** Timing and token metrics of a finished answer (all durations in ns). */
export interface Metrics {
  /** Wall time from request arrival to the last byte. */
  total_duration: number;
  /** Time to read and parse the request. */
  load_duration: number;
  /** Prompt tokens (approximate word count). */
  prompt_eval_count: number;
  /** Time from parse to the first token (includes latencyMs). */
  prompt_eval_duration: number;
  /** Tokens produced. */
  eval_count: number;
  /** Time from the first token to the last. */
  eval_duration: number;
}

/** A model answer, described as chunk builders so timestamps are taken when each chunk is written. */
export interface Reply {
  /** Builds content chunk `i` (done:false). */
  chunk: (i: number) => Record<string, unknown>;
  /** Number of content chunks. */
  chunkCount: number;
  /** Builds the final done:true chunk of a stream. */
  final: (metrics: Metrics) => Record<string, unknown>;
  /** Builds the single body of a stream:false answer. */
  whole: (metrics: Metrics) => Record<string, unknown>;
  /** Prompt token count for the metrics. */
  promptTokens: number;
  /** An error the runner raises before the first token (e.g. a bad format), with its status. */
  runnerError?: { status: number; message: string } | undefined;
}

function span(from: bigint, to: bigint): number {
  return Math.max(1, Number(to - from));
}

/** Waits for latencyMs (+ a slow fault), then answers a status fault; resolves false if nothing more should be written. */
export async function beforeFirstByte(call: ModelCall): Promise<boolean> {
  const extra = call.fault?.kind === 'slow' ? call.fault.latencyMs : 0;
  const wait = call.settings.latencyMs + extra;
  if (wait > 0 && !(await sleep(wait, call.signal))) return false;
  if (call.signal.aborted) return false;
  if (call.fault?.kind === 'status') {
    call.writer.fail(call.fault.status, call.fault.message ?? defaultFaultMessage(call.fault.status));
    return false;
  }
  return true;
}

/** Sends a non-streamed JSON answer, honouring midstream (→ 500) and truncate (→ cut body) faults. */
export function sendWhole(call: ModelCall, body: Record<string, unknown>): void {
  const { writer, fault } = call;
  if (fault?.kind === 'midstream') writer.fail(500, MIDSTREAM_ERROR);
  else if (fault?.kind === 'truncate') writer.wholeCut(body);
  else writer.whole(body);
}

/** Answers a generate/chat call: latency, faults, then NDJSON streaming (paced) or one JSON body. */
export async function sendReply(call: ModelCall, reply: Reply): Promise<void> {
  if (!(await beforeFirstByte(call))) return;
  const { writer, fault, signal } = call;
  const streaming = call.body.stream !== false;
  if (reply.runnerError) {
    // The runner fails before any token: a stream that has written nothing answers with the status.
    if (streaming && reply.runnerError.status === 500) await writer.streamError(reply.runnerError.message);
    else writer.fail(reply.runnerError.status, reply.runnerError.message);
    return;
  }
  const firstNs = nowNs();
  const tps = call.settings.tokensPerSecond;
  const intervalMs = tps > 0 ? 1000 / tps : 0;
  const metrics = (endNs: bigint): Metrics => {
    const load = span(call.startNs, call.readyNs);
    const prompt = span(call.readyNs, firstNs);
    const evalD = span(firstNs, endNs);
    return {
      total_duration: Math.max(span(call.startNs, endNs), load + prompt + evalD),
      load_duration: load,
      prompt_eval_count: reply.promptTokens,
      prompt_eval_duration: prompt,
      eval_count: reply.chunkCount,
      eval_duration: evalD,
    };
  };
  const waitForToken = async (i: number): Promise<boolean> => {
    if (intervalMs <= 0) return sleep(0, signal);
    const due = Number(firstNs) / 1e6 + (i + 1) * intervalMs;
    return sleep(due - Number(nowNs()) / 1e6, signal);
  };

  if (!streaming) {
    if (intervalMs > 0 && reply.chunkCount > 0 && !(await waitForToken(reply.chunkCount - 1))) return;
    sendWhole(call, reply.whole(metrics(nowNs())));
    return;
  }

  const cutAt =
    fault?.kind === 'midstream' || fault?.kind === 'truncate'
      ? Math.min(fault.afterChunks ?? DEFAULT_AFTER_CHUNKS, reply.chunkCount)
      : Number.POSITIVE_INFINITY;
  for (let i = 0; i < reply.chunkCount; i++) {
    if (i >= cutAt) break;
    if (!(await waitForToken(i))) return;
    if (!(await writer.chunk(reply.chunk(i)))) return;
  }
  if (fault?.kind === 'midstream') {
    await writer.streamError(MIDSTREAM_ERROR);
    return;
  }
  if (fault?.kind === 'truncate') {
    writer.cut();
    return;
  }
  await writer.finish(reply.final(metrics(nowNs())));
}
