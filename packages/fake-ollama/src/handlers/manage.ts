import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from '../answers.js';
import { DEFAULT_AFTER_CHUNKS, defaultFaultMessage, type Fault } from '../faults.js';
import { expectType, goJson, HttpError, sendBody, sendEmpty, sendJson, sleep, writeChunk } from '../http.js';
import { nameDigest, randomDigest } from '../models.js';
import { displayShortest, parseModelName } from '../names.js';
import type { ServerSettings } from './context.js';

/** The error line a failing pull sends under its 200 (a pull of a model the registry does not have). */
export const PULL_ERROR = 'pull model manifest: file does not exist';

/** Everything a management handler needs. */
export interface ManageCall {
  /** The request. */
  req: IncomingMessage;
  /** The response. */
  res: ServerResponse;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  /** Server settings. */
  settings: ServerSettings;
  /** The fault taken for this request (only those that name the route reach it). */
  fault: Fault | undefined;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
  /** Blobs uploaded so far: digest ("sha256:<hex>") → size in bytes. */
  blobs: Map<string, number>;
}

type Progress = Record<string, unknown>;

/**
 * Streams progress lines like streamResponse (routes.go:2097-2130), or with `stream:false` waits
 * and answers the last one like waitForStream (routes.go:2070-2095). `failAt` makes the producer
 * fail after that many lines, as a registry error would. Resolves true when it ran to the end.
 */
async function progress(call: ManageCall, lines: Progress[], failWith?: string): Promise<boolean> {
  const { res, fault, settings, signal } = call;
  if (fault?.kind === 'slow' && !(await sleep(fault.latencyMs, signal))) return false;
  if (fault?.kind === 'status') {
    sendJson(res, fault.status, { error: fault.message ?? defaultFaultMessage(fault.status) });
    return false;
  }
  const cutAt = fault?.kind === 'midstream' || fault?.kind === 'truncate' ? Math.min(fault.afterChunks ?? DEFAULT_AFTER_CHUNKS, lines.length) : lines.length;
  const error = fault?.kind === 'midstream' ? PULL_ERROR : failWith;
  const streaming = call.body.stream !== false;
  let written = 0;
  for (let i = 0; i < cutAt; i++) {
    if (i > 0 && !(await sleep(settings.pullIntervalMs, signal))) return false;
    if (streaming) {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      if (!(await writeChunk(res, `${goJson(lines[i])}\n`))) return false;
    }
    written++;
  }
  if (error !== undefined || fault?.kind === 'truncate') {
    if (fault?.kind === 'truncate') {
      if (streaming && !res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end();
    } else if (!streaming || written === 0) {
      sendBody(res, 500, 'application/json', goJson({ error }));
    } else {
      await writeChunk(res, `${goJson({ error })}\n`);
      res.end();
    }
    return false;
  }
  if (streaming) res.end();
  else sendBody(res, 200, 'application/json', goJson(lines.at(-1) ?? {}));
  return true;
}

function layerLines(verb: string, digests: Array<[string, number]>, steps: number): Progress[] {
  const out: Progress[] = [];
  for (const [digest, total] of digests) {
    for (let s = 0; s <= steps; s++) {
      out.push({ status: `${verb} ${digest.slice(0, 12)}`, digest: `sha256:${digest}`, total, completed: Math.round((total * s) / Math.max(1, steps)) });
    }
  }
  return out;
}

function layersOf(digest: string, size: number): Array<[string, number]> {
  return [
    [createHash('sha256').update(`${digest}:model`).digest('hex'), size],
    [createHash('sha256').update(`${digest}:template`).digest('hex'), 1_429],
    [createHash('sha256').update(`${digest}:params`).digest('hex'), 96],
  ];
}

function nameField(body: Record<string, unknown>, typeName: string): string {
  expectType(body, 'model', 'string', typeName);
  expectType(body, 'name', 'string', typeName);
  return ((body.model as string | undefined) || (body.name as string | undefined)) ?? '';
}

/** POST /api/pull: progress lines at `pullIntervalMs`, then the model is listed (PullHandler, routes.go:1102-1161). */
export async function handlePull(call: ManageCall): Promise<void> {
  const raw = nameField(call.body, 'PullRequest');
  const parsed = parseModelName(raw);
  if (!parsed) throw new HttpError(400, 'invalid model name');
  const existing = call.settings.catalog.find(raw);
  const digest = existing?.digest ?? nameDigest(displayShortest(parsed).toLowerCase());
  const lines = [
    { status: 'pulling manifest' },
    ...layerLines('pulling', layersOf(digest, existing?.size ?? 397_807_936), call.settings.pullSteps),
    { status: 'verifying sha256 digest' },
    { status: 'writing manifest' },
    { status: 'success' },
  ];
  if (await progress(call, lines)) {
    const spec = existing
      ? { name: existing.name, capabilities: existing.capabilities, digest: existing.digest, embeddingLength: existing.embeddingLength }
      : { name: raw.trim() };
    call.settings.catalog.add(spec);
  }
}

/** POST /api/push: progress lines for a listed model; an unknown one fails before the first line (PushHandler, routes.go:1163-1210). */
export async function handlePush(call: ManageCall): Promise<void> {
  const raw = nameField(call.body, 'PushRequest');
  if (!raw) throw new HttpError(400, 'model is required');
  const info = parseModelName(raw) ? call.settings.catalog.find(raw) : undefined;
  if (!info) {
    await progress(call, [], 'file does not exist');
    return;
  }
  await progress(call, [
    { status: 'retrieving manifest' },
    ...layerLines('pushing', layersOf(info.digest, info.size), call.settings.pullSteps),
    { status: 'pushing manifest' },
    { status: 'success' },
  ]);
}

const DIGEST = /^sha256[:-][0-9a-fA-F]{64}$/;

/** POST /api/create: from a listed model and/or uploaded blobs, streamed status lines (CreateHandler, server/create.go). */
export async function handleCreate(call: ManageCall): Promise<void> {
  const { body, settings } = call;
  const raw = nameField(body, 'CreateRequest');
  expectType(body, 'from', 'string', 'CreateRequest');
  expectType(body, 'files', 'object', 'CreateRequest');
  const files = isRecord(body.files) ? Object.entries(body.files) : [];
  for (const [, digest] of files) if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new HttpError(400, 'invalid digest format');
  if (!parseModelName(raw)) throw new HttpError(400, 'invalid model name');
  const from = typeof body.from === 'string' && body.from !== '' ? body.from : undefined;
  if (from !== undefined && !parseModelName(from)) throw new HttpError(400, 'invalid model name');
  const base = from === undefined ? undefined : settings.catalog.find(from);
  const lines: Progress[] = [];
  let failWith: string | undefined;
  if (from !== undefined && !base) failWith = PULL_ERROR;
  if (base) lines.push({ status: `using existing layer sha256:${base.digest}` });
  for (const [, digest] of files) {
    const normal = `sha256:${(digest as string).slice(7)}`;
    if (!call.blobs.has(normal)) {
      failWith ??= `open ${normal}: no such file or directory`;
      break;
    }
    lines.push({ status: `using existing layer ${normal}` });
  }
  if (typeof body.system === 'string' || typeof body.template === 'string' || isRecord(body.parameters)) lines.push({ status: 'creating new layer' });
  if (!failWith) lines.push({ status: 'writing manifest' }, { status: 'success' });
  if (await progress(call, lines, failWith)) {
    settings.catalog.add({
      name: raw.trim(),
      ...(base ? { capabilities: base.capabilities, embeddingLength: base.embeddingLength } : {}),
      digest: randomDigest(),
    });
  }
}

/** DELETE /api/delete with a JSON body: 200 and an empty body (DeleteHandler, routes.go:1247-1298). */
export function handleDelete(call: ManageCall): void {
  const raw = nameField(call.body, 'DeleteRequest');
  if (raw.trim() === '') throw new HttpError(400, 'model is required');
  if (!parseModelName(raw)) throw new HttpError(400, `name ${JSON.stringify(raw)} is invalid`);
  const info = call.settings.catalog.find(raw);
  if (!info) throw new HttpError(404, `model '${raw}' not found`);
  call.settings.catalog.remove(raw);
  call.settings.loaded.delete(info.key);
  sendEmpty(call.res, 200);
}

/** POST /api/copy: 200 and an empty body (CopyHandler, routes.go:1647-1686). */
export function handleCopy(call: ManageCall): void {
  const { body, settings } = call;
  expectType(body, 'source', 'string', 'CopyRequest');
  expectType(body, 'destination', 'string', 'CopyRequest');
  const source = (body.source as string | undefined) ?? '';
  const destination = (body.destination as string | undefined) ?? '';
  if (!parseModelName(source)) throw new HttpError(400, `source ${JSON.stringify(source)} is invalid`);
  if (!parseModelName(destination)) throw new HttpError(400, `destination ${JSON.stringify(destination)} is invalid`);
  const info = settings.catalog.find(source);
  if (!info) throw new HttpError(404, `model ${JSON.stringify(source)} not found`);
  settings.catalog.add({
    name: destination.trim(),
    capabilities: info.capabilities,
    digest: info.digest,
    embeddingLength: info.embeddingLength,
    contextLength: info.contextLength,
  });
  sendEmpty(call.res, 200);
}

/** HEAD /api/blobs/:digest: 200 if uploaded, else 404 (HeadBlobHandler, routes.go:1688-1701). */
export function handleHeadBlob(res: ServerResponse, digest: string, blobs: Map<string, number>): void {
  if (!DIGEST.test(digest)) {
    sendJson(res, 400, { error: 'invalid digest format' }, true);
    return;
  }
  if (!blobs.has(`sha256:${digest.slice(7)}`)) {
    sendJson(res, 404, { error: `blob ${JSON.stringify(digest)} not found` }, true);
    return;
  }
  sendEmpty(res, 200);
}

/**
 * POST /api/blobs/:digest: hashes the body as it streams in (constant memory, no size limit),
 * then 201, or 400 on a digest mismatch; 200 without reading when the blob exists
 * (CreateBlobHandler, routes.go:1703-1753).
 */
export async function handlePostBlob(req: IncomingMessage, res: ServerResponse, digest: string, blobs: Map<string, number>): Promise<void> {
  if (!DIGEST.test(digest)) throw new HttpError(400, 'invalid digest format');
  if (blobs.has(`sha256:${digest.slice(7)}`)) {
    sendEmpty(res, 200);
    req.resume();
    return;
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const part of req) {
    hash.update(part as Buffer);
    size += (part as Buffer).length;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== digest) throw new HttpError(400, `digest mismatch, expected ${JSON.stringify(digest)}, got ${JSON.stringify(got)}`);
  blobs.set(got, size);
  sendEmpty(res, 201);
}
