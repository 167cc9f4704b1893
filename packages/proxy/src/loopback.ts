import { isIP } from 'node:net';

/**
 * True when a listen address only accepts connections from this machine: 127.0.0.0/8, ::1,
 * ::ffff:127.x, or the name localhost. 0.0.0.0 and :: (every interface) are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.') || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h);
  return false;
}
