/** A failure the server injects into upcoming model calls (generate/chat/embed). */
export type Fault =
  /** Error before the first byte: `{"error": message}` with that status. */
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
  | { kind: 'reset' };

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
      return 'llama runner process has terminated: exit status 2';
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

  /** Takes the fault for the current model call, if any. */
  take(): Fault | undefined {
    const head = this.entries[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.entries.shift();
    return head.fault;
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
