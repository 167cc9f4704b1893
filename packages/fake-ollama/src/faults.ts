/** Which request paths a fault may strike: one path or several (default: {@link MODEL_ROUTES}). */
export interface FaultTarget {
  /** The path(s) this fault applies to, e.g. "/api/pull". Default: every model route. */
  route?: string | readonly string[];
}

/** The routes that run the model; faults strike these unless they name a `route`. */
export const MODEL_ROUTES: readonly string[] = [
  '/api/generate',
  '/api/chat',
  '/api/embed',
  '/api/embeddings',
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
];

/** A failure the server injects into upcoming requests (model calls unless it names a `route`). */
export type Fault = FaultTarget &
  /** Error before the first byte: `{"error": message}` with that status. */
  (
    | { kind: 'status'; status: 500 | 503 | 400 | 404 | number; message?: string }
    /** Streams some chunks (status 200), then an `{"error"}` line, and ends without `done`. With stream:false: a 500. */
    | { kind: 'midstream'; afterChunks?: number }
    /** The stream ends cleanly after some chunks, with neither a `done` chunk nor an error line. */
    | { kind: 'truncate'; afterChunks?: number }
    /** Accepts the request and never answers (until close()). */
    | { kind: 'hang' }
    /** One-off extra latency before the first byte. */
    | { kind: 'slow'; latencyMs: number }
    /** Destroys the socket right after the request arrives (a connection error for the client). */
    | { kind: 'reset' }
  );

/** Chunks sent before a midstream/truncate fault strikes, when `afterChunks` is not given. */
export const DEFAULT_AFTER_CHUNKS = 2;

/** The error text written by a midstream fault. */
export const MIDSTREAM_ERROR = 'an error was encountered while running the model: unexpected EOF';

/** The default `error` message for a status fault. */
export function defaultFaultMessage(status: number): string {
  switch (status) {
    case 400:
      return 'invalid request';
    case 404:
      return 'model not found';
    case 499:
      return 'request canceled';
    case 503:
      return 'server busy, please try again.  maximum pending requests exceeded';
    case 500:
      return 'model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details';
    default:
      return `fake-ollama injected failure (status ${status})`;
  }
}

/** Throws a RangeError when a fault is malformed. */
export function validateFault(fault: Fault): void {
  if (fault.kind === 'status' && (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599)) {
    throw new RangeError(`status fault needs an integer status in 400..599, got ${String(fault.status)}`);
  }
  if ((fault.kind === 'midstream' || fault.kind === 'truncate') && fault.afterChunks !== undefined) {
    if (!Number.isInteger(fault.afterChunks) || fault.afterChunks < 0) {
      throw new RangeError(`afterChunks must be an integer >= 0, got ${String(fault.afterChunks)}`);
    }
  }
  if (fault.kind === 'slow' && (!Number.isFinite(fault.latencyMs) || fault.latencyMs < 0)) {
    throw new RangeError(`slow fault needs latencyMs >= 0, got ${String(fault.latencyMs)}`);
  }
  if (!['status', 'midstream', 'truncate', 'hang', 'slow', 'reset'].includes(fault.kind)) {
    throw new RangeError(`unknown fault kind ${JSON.stringify(fault.kind)} (known: status, midstream, truncate, hang, slow, reset)`);
  }
  const routes = fault.route === undefined ? [] : typeof fault.route === 'string' ? [fault.route] : fault.route;
  if (!Array.isArray(routes) || routes.some((r) => typeof r !== 'string' || !r.startsWith('/'))) {
    throw new RangeError(`fault route must be a path starting with "/" (or a list of them), got ${JSON.stringify(fault.route)}`);
  }
}

/** Whether a fault applies to a request for `path`. */
export function faultApplies(fault: Fault, path: string): boolean {
  if (fault.route === undefined) return MODEL_ROUTES.includes(path);
  return typeof fault.route === 'string' ? fault.route === path : fault.route.includes(path);
}

/** An ordered queue of faults; each entry is consumed `times` times (Infinity = persistent). */
export class FaultQueue {
  private readonly entries: Array<{ fault: Fault; remaining: number }> = [];

  /** Appends a fault for the next `times` model calls. */
  push(fault: Fault, times = 1): void {
    validateFault(fault);
    if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`times must be an integer >= 1 or Infinity, got ${String(times)}`);
    }
    this.entries.push({ fault, remaining: times });
  }

  /** Takes the first queued fault that applies to a request for `path`, if any. */
  take(path: string): Fault | undefined {
    const index = this.entries.findIndex((e) => faultApplies(e.fault, path));
    const entry = this.entries[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries.splice(index, 1);
    return entry.fault;
  }

  /** Drops every queued or persistent fault. */
  clear(): void {
    this.entries.length = 0;
  }

  /** Number of queued entries. */
  get size(): number {
    return this.entries.length;
  }
}

/** A fault with how many requests it strikes (Infinity = until cleared). */
export interface QueuedFault {
  /** The fault. */
  fault: Fault;
  /** How many requests it strikes. */
  times: number;
}

/**
 * Parses a fault written as `KIND[:ARG][,times=N|always][,route=/path[|/path...]]`, e.g.
 * `status:503`, `midstream:2,times=3`, `slow:500,times=always`, `status:500,route=/api/pull`.
 * ARG is the status of `status`, the chunks before a `midstream`/`truncate` strikes, and the ms of `slow`.
 */
export function parseFaultSpec(spec: string): QueuedFault {
  const [head = '', ...params] = spec.split(',').map((p) => p.trim());
  const [kind = '', arg] = head.split(':');
  const num = (what: string): number => {
    const n = arg === undefined || arg.trim() === '' ? Number.NaN : Number(arg);
    if (!Number.isFinite(n))
      throw new RangeError(`fault "${spec}": ${kind} needs ${what} after ":" (e.g. ${kind}:${kind === 'status' ? 503 : kind === 'slow' ? 500 : 2})`);
    return n;
  };
  let fault: Fault;
  switch (kind) {
    case 'status':
      fault = { kind, status: num('a status') };
      break;
    case 'midstream':
    case 'truncate':
      fault = arg === undefined ? { kind } : { kind, afterChunks: num('a chunk count') };
      break;
    case 'slow':
      fault = { kind, latencyMs: num('a latency in ms') };
      break;
    case 'hang':
    case 'reset':
      if (arg !== undefined) throw new RangeError(`fault "${spec}": ${kind} takes no argument`);
      fault = { kind };
      break;
    default:
      throw new RangeError(`fault "${spec}": unknown kind "${kind}" (known: status, midstream, truncate, hang, slow, reset)`);
  }
  let times = 1;
  for (const p of params) {
    const [key, value = ''] = p.split('=').map((x) => x.trim());
    if (key === 'times') {
      times = value === 'always' ? Number.POSITIVE_INFINITY : Number(value);
      if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 1))) {
        throw new RangeError(`fault "${spec}": times must be an integer >= 1 or "always", got "${value}"`);
      }
    } else if (key === 'route') {
      const routes = value.split('|').filter(Boolean);
      fault = { ...fault, route: routes.length === 1 ? (routes[0] as string) : routes };
    } else {
      throw new RangeError(`fault "${spec}": unknown parameter "${key}" (known: times, route)`);
    }
  }
  validateFault(fault);
  return { fault, times };
}

/** Reads a fault from JSON (the admin route): the Fault fields plus an optional `times` (a number or "always"). */
export function faultFromJson(value: unknown): QueuedFault {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RangeError('a fault must be a JSON object like {"kind":"status","status":503}');
  const { times: rawTimes, ...rest } = value as Record<string, unknown>;
  const times = rawTimes === undefined ? 1 : rawTimes === 'always' ? Number.POSITIVE_INFINITY : rawTimes;
  if (typeof times !== 'number' || !(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 1))) {
    throw new RangeError(`times must be an integer >= 1 or "always", got ${JSON.stringify(rawTimes)}`);
  }
  const fault = rest as unknown as Fault;
  validateFault(fault);
  return { fault, times };
}
