/**
 * Closing a connection whose request body was left unread (a 413) without losing the answer. When a
 * socket is closed while the peer's bytes sit unread in its receive buffer, the kernel answers with
 * a reset, and a reset makes the client drop what it had not read yet: the 413 itself. So the
 * connection is half-closed after the answer (FIN) and the rest of the body is read and thrown
 * away until the client closes its side, for at most lingerMs; only then is it destroyed (the
 * "lingering close" of nginx and Apache).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection is drained after its answer, in ms, before it is destroyed. */
export const LINGER_MS = 2000;

/** Makes node:http's close of req's connection (after a `Connection: close` answer) a lingering one. */
export function lingerOnClose(req: IncomingMessage, lingerMs: number = LINGER_MS): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  if (socket.destroyed) return;
  // node:http closes a non-keep-alive connection with destroySoon() once the answer is written.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    // The client closed its side: nothing more can come, so nothing is lost by closing now.
    socket.once('end', () => socket.destroy());
    // Read and drop the rest of the body (the HTTP parser keeps framing it, so a chunked body ends cleanly).
    req.resume();
  };
}
