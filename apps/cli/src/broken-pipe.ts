/**
 * What happens when the reader of stdout goes away (`tinyllm run ... | head -c 10`): the writes that
 * follow fail with EPIPE. The command then stops writing, lets the work registered here finish for
 * a moment (a cache write already on its way lands, the store closes) and ends quietly, with exit
 * code 0 like a command killed by SIGPIPE would be treated by a shell pipeline, never a stack trace.
 */

/** How long the registered work may take after stdout closed before the process ends anyway, in ms. */
export const BROKEN_PIPE_GRACE_MS = 1_500;

const cleanups = new Set<() => Promise<unknown>>();

/** Registers work to finish before the process ends because stdout closed (e.g. closing a cache session); returns the unregister function. */
export function onStdoutClosed(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** True for the errors of a stream whose reader has gone (a closed pipe or socket). */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET';
}

/** Runs the registered work (each at most once), resolving when it is done or after graceMs, whichever comes first. */
export async function finishRegisteredWork(graceMs: number = BROKEN_PIPE_GRACE_MS): Promise<void> {
  const work = [...cleanups];
  cleanups.clear();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  try {
    await Promise.race([Promise.allSettled(work.map(async (cleanup) => cleanup())), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
