/** The CPU time a bench server process (proxy-servers.ts) reports over IPC. */
import type { ChildProcess } from 'node:child_process';

/** The server process's CPU time so far (user + system), in us. */
export function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not report its CPU time')), 10_000);
    const onMessage = (message: { cpuUs?: unknown }): void => {
      if (typeof message?.cpuUs !== 'number') return;
      child.off('message', onMessage);
      clearTimeout(timer);
      resolve(message.cpuUs);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}
