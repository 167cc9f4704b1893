import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string;

// crypto.hash (Node >= 20.12) is about twice as fast as createHash for one-shot digests.
const oneShot = (crypto as { hash?: OneShotHash }).hash;

/** sha256 of a string (UTF-8) or bytes, as 64 lower-case hex characters. */
export const sha256Hex: (data: string | Uint8Array) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');
