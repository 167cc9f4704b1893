import { createHash, randomBytes } from 'node:crypto';
import { normalizeModelName, parseModelName } from './names.js';

export { normalizeModelName } from './names.js';

/** What a model can do, as Ollama reports it in /api/show and /api/tags. */
export type Capability = 'completion' | 'tools' | 'thinking' | 'embedding' | 'insert' | 'vision';

/** Every capability the fake knows, in Ollama's order. */
export const CAPABILITIES: readonly Capability[] = ['completion', 'tools', 'insert', 'vision', 'embedding', 'thinking'];

/** A model to serve, with what it can do (anything left out is derived from the name). */
export interface ModelSpec {
  /** Name, `[namespace/]model[:tag]` (e.g. "qwen3:0.6b"). */
  name: string;
  /** What it can do. Default: derived from the name (see the README's table). */
  capabilities?: Capability[];
  /** sha256 hex digest (64 characters). Default: derived from the name. */
  digest?: string;
  /** Length of its embedding vectors. Default: derived from the name (768 for nomic-embed-text). */
  embeddingLength?: number;
  /** Context length reported in /api/show and /api/tags. Default: 8192 for embedding models, else 32768. */
  contextLength?: number;
}

/** What the fake server knows about one model. */
export interface ModelInfo {
  /** The name as configured, with the tag made explicit (e.g. "llama3.2:latest"). */
  name: string;
  /** The normalised key used for matching (lower-cased shortest form). */
  key: string;
  /** sha256 hex digest; changes when the model is re-pulled or its digest is set. */
  digest: string;
  /** The digest derived from the name (answers change only once `digest` differs from it). */
  baseDigest: string;
  /** A plausible size in bytes. */
  size: number;
  /** What the model can do. */
  capabilities: Capability[];
  /** Whether this is an embedding-only model. */
  embedding: boolean;
  /** Length of its embedding vectors. */
  embeddingLength: number;
  /** Context length. */
  contextLength: number;
  /** Model family, e.g. "llama". */
  family: string;
  /** Parameter size, e.g. "0.5B". */
  parameterSize: string;
  /** Quantization level, e.g. "Q4_K_M". */
  quantization: string;
  /** When the model was last written (pulled, created, copied), RFC 3339 with the local offset. */
  modifiedAt: string;
}

/** The modification time reported for the configured models. */
export const MODIFIED_AT_MS = Date.UTC(2025, 0, 1);

// Capabilities that real Ollama derives from each model's template and GGUF; matched on the
// model part of the name (longest prefix first).
const KNOWN: Array<[RegExp, Capability[]]> = [
  [/embed|^bge-|^all-minilm|^granite-embedding|^paraphrase-multilingual/, ['embedding']],
  [/^qwen3-vl/, ['completion', 'tools', 'vision', 'thinking']],
  [/^qwen3-coder/, ['completion', 'tools']],
  [/^(qwen3|deepseek-r1|gpt-oss|magistral|qwq|phi4-reasoning|cogito)/, ['completion', 'tools', 'thinking']],
  [/^(llava|bakllava|moondream|minicpm-v|granite3\.2-vision|gemma3)/, ['completion', 'vision']],
  [/^(llama3\.2-vision|qwen2\.5vl|mistral-small3)/, ['completion', 'tools', 'vision']],
  [/^(qwen2\.5-coder|codestral|deepseek-coder-v2)/, ['completion', 'tools', 'insert']],
  [/^(codellama|starcoder|deepseek-coder|codegemma|stable-code)/, ['completion', 'insert']],
  [/^(qwen2|qwen2\.5|llama3\.1|llama3\.2|llama3\.3|mistral|mixtral|command-r|granite3|smollm2|phi4-mini|hermes3|nemotron)/, ['completion', 'tools']],
];

const EMBEDDING_LENGTHS: Array<[RegExp, number]> = [
  [/^nomic-embed/, 768],
  [/^mxbai-embed|^bge-large|^bge-m3|^snowflake-arctic-embed/, 1024],
  [/^all-minilm/, 384],
  [/^qwen2\.5(-coder)?:0\.5b/, 896],
  [/^qwen3:0\.6b/, 1024],
  [/^llama3\.2/, 3072],
  [/^llava/, 4096],
];

/** The capabilities real Ollama reports for a model of this name (a guess from well-known families). */
export function capabilitiesFor(name: string): Capability[] {
  const model = parseModelName(name)?.model.toLowerCase() ?? name.toLowerCase();
  for (const [pattern, caps] of KNOWN) if (pattern.test(model)) return [...caps];
  return ['completion'];
}

function embeddingLengthFor(key: string, embedding: boolean): number {
  const short = key.slice(key.lastIndexOf('/') + 1);
  for (const [pattern, n] of EMBEDDING_LENGTHS) if (pattern.test(short)) return n;
  return embedding ? 768 : 2048;
}

/** RFC 3339 with the local offset and no fractional zeros, as Go formats a manifest mtime. */
export function localTimestamp(ms: number): string {
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const frac = ms % 1000 === 0 ? '' : `.${String(ms % 1000).padStart(3, '0')}`.replace(/0+$/, '');
  if (offsetMin === 0) return `${local}${frac}Z`;
  const sign = offsetMin > 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${local}${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A digest derived from a model name (stable across runs). */
export function nameDigest(key: string): string {
  return createHash('sha256').update(`fake-ollama:${key}`).digest('hex');
}

/** A fresh random sha256-shaped digest, as a re-pull of a changed model would give. */
export function randomDigest(): string {
  return randomBytes(32).toString('hex');
}

function checkDigest(digest: string): string {
  const hex = digest.replace(/^sha256[:-]/, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new RangeError(`digest must be 64 hex characters (optionally after "sha256:"), got ${JSON.stringify(digest)}`);
  return hex.toLowerCase();
}

/** Builds the catalog entry for one configured model. */
export function describeModel(spec: string | ModelSpec, modifiedAtMs = MODIFIED_AT_MS): ModelInfo {
  const s: ModelSpec = typeof spec === 'string' ? { name: spec } : spec;
  const parsed = parseModelName(s.name);
  if (!parsed) throw new RangeError(`invalid model name ${JSON.stringify(s.name)}`);
  const key = normalizeModelName(s.name);
  const trimmed = s.name.trim();
  const name = trimmed.slice(trimmed.lastIndexOf('/') + 1).includes(':') ? trimmed : `${trimmed}:latest`;
  const capabilities = s.capabilities ? [...s.capabilities] : capabilitiesFor(s.name);
  for (const c of capabilities) {
    if (!CAPABILITIES.includes(c)) throw new RangeError(`unknown capability ${JSON.stringify(c)} for model ${s.name} (known: ${CAPABILITIES.join(', ')})`);
  }
  const embedding = capabilities.includes('embedding') && !capabilities.includes('completion');
  const baseDigest = nameDigest(key);
  const digest = s.digest ? checkDigest(s.digest) : baseDigest;
  const tag = parsed.tag.toLowerCase();
  const sizeMatch = /(\d+(?:\.\d+)?)([bm])/.exec(tag);
  const family = embedding
    ? 'nomic-bert'
    : parsed.model
        .toLowerCase()
        .replace(/[\d.]+$/, '')
        .replace(/[-_]+$/, '') || 'llama';
  const parameterSize = embedding ? '137M' : sizeMatch ? `${sizeMatch[1]}${(sizeMatch[2] ?? 'b').toUpperCase()}` : '3.2B';
  const embeddingLength = s.embeddingLength ?? embeddingLengthFor(key, embedding);
  if (!Number.isInteger(embeddingLength) || embeddingLength < 1) throw new RangeError(`embeddingLength must be an integer >= 1, got ${embeddingLength}`);
  return {
    name,
    key,
    digest,
    baseDigest,
    size: 100_000_000 + (Number.parseInt(baseDigest.slice(0, 8), 16) % 4_000_000_000),
    capabilities,
    embedding,
    embeddingLength,
    contextLength: s.contextLength ?? (embedding ? 8192 : 32768),
    family,
    parameterSize,
    quantization: embedding ? 'F16' : 'Q4_K_M',
    modifiedAt: localTimestamp(modifiedAtMs),
  };
}

/** The models a server knows (a small in-memory registry), matched by normalised name. */
export class ModelCatalog {
  private readonly byKey = new Map<string, ModelInfo>();
  private order = 0;
  private readonly seq = new Map<string, number>();

  /** Builds a catalog from configured models (duplicates after normalisation are dropped). */
  constructor(specs: ReadonlyArray<string | ModelSpec>) {
    for (const s of specs) {
      const info = describeModel(s);
      if (!this.byKey.has(info.key)) this.put(info);
    }
  }

  private put(info: ModelInfo): void {
    this.byKey.set(info.key, info);
    this.seq.set(info.key, this.order++);
  }

  /** Finds a model by any spelling Ollama accepts (tag, namespace, host, case). */
  find(name: string): ModelInfo | undefined {
    return this.byKey.get(normalizeModelName(name));
  }

  /** Adds or replaces a model (as a pull, create or copy does); it lists first in /api/tags. */
  add(spec: string | ModelSpec, modifiedAtMs = Date.now()): ModelInfo {
    const info = describeModel(spec, modifiedAtMs);
    this.byKey.delete(info.key);
    this.put(info);
    return info;
  }

  /** Removes a model; false if it was not there. */
  remove(name: string): boolean {
    const key = normalizeModelName(name);
    this.seq.delete(key);
    return this.byKey.delete(key);
  }

  /** Sets a model's digest (a random new one when none is given) and returns it. */
  setDigest(name: string, digest?: string): string {
    const info = this.find(name);
    if (!info) throw new RangeError(`unknown model ${JSON.stringify(name)}`);
    info.digest = digest === undefined ? randomDigest() : checkDigest(digest);
    info.modifiedAt = localTimestamp(Date.now());
    return info.digest;
  }

  /** All models, newest first (configured ones in configuration order), as /api/tags lists them. */
  all(): ModelInfo[] {
    return [...this.byKey.values()].sort((a, b) => {
      const byTime = Date.parse(b.modifiedAt) - Date.parse(a.modifiedAt);
      return byTime !== 0 ? byTime : (this.seq.get(a.key) ?? 0) - (this.seq.get(b.key) ?? 0);
    });
  }
}

/** The `details` object of /api/tags and /api/show. */
export function modelDetails(m: ModelInfo): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantization,
  };
}
