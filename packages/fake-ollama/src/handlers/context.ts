import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Fault } from '../faults.js';
import type { ModelCatalog } from '../models.js';
import type { LoadedModel } from './info.js';
import type { AnswerWriter } from './writer.js';

/** Mutable server settings the handlers read on every request. */
export interface ServerSettings {
  /** Known models. */
  catalog: ModelCatalog;
  /** Base latency before the first byte of model answers, in ms. */
  latencyMs: number;
  /** Streaming pace; 0 = none. */
  tokensPerSecond: number;
  /** Default answer length in words. */
  answerTokens: number;
  /** Delay between two progress lines of pull/push/create, in ms. */
  pullIntervalMs: number;
  /** Progress lines per layer of a pull or push. */
  pullSteps: number;
  /** The version /api/version reports. */
  version: string;
  /** Models held in memory (what /api/ps lists), by normalised name. */
  loaded: Map<string, LoadedModel>;
}

/** Everything a model-route handler needs for one request. */
export interface ModelCall {
  /** The incoming request. */
  req: IncomingMessage;
  /** The response being written. */
  res: ServerResponse;
  /** Where the answer goes (native framing, or a /v1 re-encoder). */
  writer: AnswerWriter;
  /** The parsed JSON body (for /v1 routes: the translated native request). */
  body: Record<string, unknown>;
  /** The fault taken for this call, if any. */
  fault: Fault | undefined;
  /** Server settings at the time of the call. */
  settings: ServerSettings;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
  /** Monotonic time (ns) the request arrived. */
  startNs: bigint;
  /** Monotonic time (ns) the body was read and parsed. */
  readyNs: bigint;
}
