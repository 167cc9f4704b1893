/**
 * What the dashboard shows of recent traffic: the last requests on cached routes (never their
 * prompt unless the operator turned that on) and a timeline of requests by cache status in
 * 5-second buckets. Fixed-size rings: memory never grows with traffic.
 */

/** Width of one timeline bucket, in ms. */
export const ACTIVITY_BUCKET_MS = 5_000;
/** Buckets kept: 10 minutes. */
export const ACTIVITY_BUCKETS = 120;
/** Recent requests kept. */
export const RECENT_REQUESTS = 100;

/** The cache statuses the timeline counts. */
export const ACTIVITY_STATUSES = ['HIT', 'MISS', 'COALESCED', 'STALE', 'BYPASS'] as const;

/** One recent request on a cached route. */
export interface RecentRequest {
  /** When it ended, in ms since the epoch. */
  at: number;
  /** The route id (generate, chat, openai-chat...). */
  route: string;
  /** X-Cache (HIT, MISS, BYPASS, COALESCED, STALE), or NONE when the request ended before. */
  cache: string;
  /** The HTTP status answered. */
  status: number;
  /** Time to answer, in ms. */
  ms: number;
  /** The model the request named, when it named one. */
  model: string | null;
  /** The first 16 characters of the cache key, when there was one. */
  key: string | null;
  /** The tenant (API keys), or null. */
  tenant: string | null;
  /** The prompt (or last message), only with dashboardPrompts; else null. */
  prompt: string | null;
}

/** One timeline bucket: its start (ms since the epoch) and its requests by cache status. */
export interface ActivityBucket {
  /** Start of the bucket, in ms since the epoch. */
  at: number;
  HIT: number;
  MISS: number;
  COALESCED: number;
  STALE: number;
  BYPASS: number;
}

const MODEL = /"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/;

/** The model a JSON body names, read from its first bytes without parsing it (null when none). */
export function modelOfBody(body: Buffer): string | null {
  const match = MODEL.exec(body.toString('utf8', 0, Math.min(body.length, 1024)));
  if (match === null) return null;
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch {
    return null;
  }
}

/** The prompt of a body (generate's prompt, the last message's content, an OpenAI prompt), cut to 200 characters. */
export function promptOfBody(body: Buffer): string | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { prompt?: unknown; messages?: Array<{ content?: unknown }>; input?: unknown };
    const last = parsed.messages?.[parsed.messages.length - 1]?.content;
    const text = typeof parsed.prompt === 'string' ? parsed.prompt : typeof last === 'string' ? last : typeof parsed.input === 'string' ? parsed.input : null;
    return text === null ? null : text.slice(0, 200);
  } catch {
    return null;
  }
}

/** The rings behind the dashboard's activity figures. */
export class ActivityLog {
  /** Keep prompt text in recent requests (the dashboardPrompts option). */
  keepPrompts = false;
  readonly #recent: Array<RecentRequest | undefined> = new Array(RECENT_REQUESTS);
  #next = 0;
  readonly #buckets: ActivityBucket[] = [];

  /** Records one finished request on a cached route. */
  record(request: RecentRequest): void {
    this.#recent[this.#next] = request;
    this.#next = (this.#next + 1) % RECENT_REQUESTS;
    const start = request.at - (request.at % ACTIVITY_BUCKET_MS);
    let bucket = this.#buckets[this.#buckets.length - 1];
    if (bucket === undefined || bucket.at !== start) {
      bucket = { at: start, HIT: 0, MISS: 0, COALESCED: 0, STALE: 0, BYPASS: 0 };
      this.#buckets.push(bucket);
      if (this.#buckets.length > ACTIVITY_BUCKETS) this.#buckets.shift();
    }
    const status = request.cache as (typeof ACTIVITY_STATUSES)[number];
    if (ACTIVITY_STATUSES.includes(status)) bucket[status]++;
  }

  /** The recent requests, newest first (only tenant's, when given). */
  recent(tenant?: string): RecentRequest[] {
    const out: RecentRequest[] = [];
    for (let i = 1; i <= RECENT_REQUESTS; i++) {
      const request = this.#recent[(this.#next - i + RECENT_REQUESTS) % RECENT_REQUESTS];
      if (request === undefined) break;
      if (tenant === undefined || request.tenant === tenant) out.push(request);
    }
    return out;
  }

  /** The timeline buckets of the last 10 minutes, oldest first (copies). */
  timeline(now: number = Date.now()): ActivityBucket[] {
    const since = now - ACTIVITY_BUCKETS * ACTIVITY_BUCKET_MS;
    return this.#buckets.filter((bucket) => bucket.at >= since).map((bucket) => ({ ...bucket }));
  }
}
