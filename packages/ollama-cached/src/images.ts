import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** An image as clients pass it: base64 text, a file path (Node), or bytes (ollama-js also takes an ArrayBuffer at run time). */
export type ImageValue = string | Uint8Array | ArrayBuffer | ArrayBufferView;

// Paths are short; base64 images are long. Anything longer than this is never looked up on disk.
const MAX_PATH_LENGTH = 4096;

/**
 * Normalises one image to base64 the way ollama-js's Node client does: bytes are encoded, a string
 * naming an existing file is read and encoded, any other string is taken as base64 already.
 */
export async function imageToBase64(image: ImageValue): Promise<string> {
  if (image instanceof ArrayBuffer) return Buffer.from(image).toString('base64');
  if (typeof image !== 'string') return Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64');
  if (image.length === 0 || image.length > MAX_PATH_LENGTH || image.includes('\0')) return image;
  try {
    const path = resolve(image);
    if ((await stat(path)).isFile()) return (await readFile(path)).toString('base64');
  } catch {
    // not a readable file: base64 text
  }
  return image;
}

/** Normalises a list of images to base64 (see imageToBase64); anything that is not an array is returned as is. */
export async function normalizeImages(images: unknown): Promise<unknown> {
  if (!Array.isArray(images)) return images;
  return Promise.all(
    images.map((image: unknown) => (typeof image === 'string' || image instanceof ArrayBuffer || ArrayBuffer.isView(image) ? imageToBase64(image) : image)),
  );
}

function messagesHaveImages(messages: unknown): boolean {
  return Array.isArray(messages) && messages.some((m: unknown) => m !== null && typeof m === 'object' && (m as Record<string, unknown>).images !== undefined);
}

/** Whether a request carries images (top-level or in a message): only those need withBase64Images. */
export function hasImages(request: Record<string, unknown>): boolean {
  return request.images !== undefined || messagesHaveImages(request.messages);
}

/**
 * A generate/chat request whose images (top-level and per message) are base64, so the cache key
 * hashes the image bytes; the caller's objects are never modified. A request without images is
 * returned as it is (this runs on every call, hits included).
 */
export async function withBase64Images(request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const messages = request.messages;
  const messagesWithImages = messagesHaveImages(messages);
  if (request.images === undefined && !messagesWithImages) return request;
  const out: Record<string, unknown> = { ...request };
  if (out.images !== undefined) out.images = await normalizeImages(out.images);
  if (messagesWithImages) {
    out.messages = await Promise.all(
      (messages as unknown[]).map(async (message: unknown) => {
        if (message === null || typeof message !== 'object') return message;
        const m = message as Record<string, unknown>;
        return m.images === undefined ? m : { ...m, images: await normalizeImages(m.images) };
      }),
    );
  }
  return out;
}
