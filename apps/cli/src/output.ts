import pc from 'picocolors';

/** The colour functions the command uses (identity functions when colour is off). */
export type Colors = ReturnType<typeof pc.createColors>;

/** A stream the command writes to. */
export interface OutStream {
  /** Writes text. */
  write(text: string): boolean;
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Listens for write errors (a closed pipe: EPIPE); process.stdout and process.stderr have it. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Where and how the command writes. */
export interface Output {
  /** stdout is a terminal (or TINYLLM_TTY forces it): stream tokens, draw progress bars. */
  readonly stdoutIsTTY: boolean;
  /** stderr is a terminal (or forced). */
  readonly stderrIsTTY: boolean;
  /** stdin is a terminal (or forced): interactive confirmation is possible. */
  readonly stdinIsTTY: boolean;
  /** Colours for stdout. */
  readonly out: Colors;
  /** Colours for stderr. */
  readonly err: Colors;
  /** True once stdout's reader has gone (EPIPE): every later write to stdout is dropped. */
  readonly stdoutClosed: boolean;
  /** Writes to stdout as is. */
  print(text: string): void;
  /** Writes to stderr as is. */
  printErr(text: string): void;
  /** Writes one line to stdout. */
  line(text?: string): void;
  /** Writes one line to stderr. */
  info(text: string): void;
  /** Writes "warning: ..." to stderr (yellow on a terminal). */
  warn(text: string): void;
  /** Writes "tinyllm: ..." to stderr (red on a terminal). */
  error(text: string): void;
  /** Writes a value as JSON (two-space indent) plus a newline to stdout. */
  json(value: unknown): void;
}

/** The streams and environment createOutput reads (process's by default). */
export interface OutputOptions {
  /** Defaults to process.stdout. */
  stdout?: OutStream;
  /** Defaults to process.stderr. */
  stderr?: OutStream;
  /** Defaults to process.stdin. */
  stdin?: { isTTY?: boolean };
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Called once when writing to stdout fails (its reader went away: EPIPE); later writes are dropped. */
  onStdoutError?: (error: Error) => void;
}

/** A stream wrapper that stops writing after the first write error instead of crashing on an unhandled 'error' event. */
interface GuardedStream {
  readonly closed: boolean;
  write(text: string): void;
}

function guard(stream: OutStream, onError: ((error: Error) => void) | undefined): GuardedStream {
  let closed = false;
  const fail = (error: Error): void => {
    if (closed) return;
    closed = true;
    onError?.(error);
  };
  // Kept for the life of the process: a stream that failed once may report again on the next write.
  stream.on?.('error', fail);
  return {
    get closed() {
      return closed;
    },
    write: (text) => {
      if (closed) return;
      try {
        stream.write(text);
      } catch (error) {
        fail(error as Error);
      }
    },
  };
}

/** True when TINYLLM_TTY=1 asks the command to behave as on a terminal (for testing and screen recorders). */
function forcedTTY(env: NodeJS.ProcessEnv): boolean {
  const value = env.TINYLLM_TTY;
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

/** Colour only on a terminal, never with NO_COLOR set (to anything non-empty) or TERM=dumb. */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/** Builds the Output for the given streams (process's by default). */
export function createOutput(options: OutputOptions = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const forced = forcedTTY(env);
  const stdoutIsTTY = forced || stdout.isTTY === true;
  const stderrIsTTY = forced || stderr.isTTY === true;
  const stdinIsTTY = forced || (options.stdin ?? process.stdin).isTTY === true;
  const out = pc.createColors(colorEnabled(stdout.isTTY === true, env));
  const err = pc.createColors(colorEnabled(stderr.isTTY === true, env));
  const toStdout = guard(stdout, options.onStdoutError);
  // A closed stderr only silences the messages: the answer on stdout is still wanted.
  const toStderr = guard(stderr, undefined);
  return {
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY,
    out,
    err,
    get stdoutClosed() {
      return toStdout.closed;
    },
    print: (text) => toStdout.write(text),
    printErr: (text) => toStderr.write(text),
    line: (text = '') => toStdout.write(`${text}\n`),
    info: (text) => toStderr.write(`${text}\n`),
    warn: (text) => toStderr.write(`${err.yellow(`warning: ${text}`)}\n`),
    error: (text) => toStderr.write(`${err.red(`tinyllm: ${text}`)}\n`),
    json: (value) => toStdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
