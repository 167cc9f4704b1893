import { createHash } from 'node:crypto';

/** What the fake server knows about one model. */
export interface ModelInfo {
  /** The name as configured, with the tag made explicit (e.g. "llama3.2:latest"). */
  name: string;
  /** The lower-cased, tagged name used for matching. */
  key: string;
  /** A stable sha256 hex digest derived from the name. */
  digest: string;
  /** A plausible size in bytes. */
  size: number;
  /** Whether this is an embedding-only model (its name contains "embed"). */
  embedding: boolean;
  /** Model family, e.g. "llama". */
  family: string;
  /** Parameter size, e.g. "0.5B". */
  parameterSize: string;
  /** Quantization level, e.g. "Q4_K_M". */
  quantization: string;
}

/** The fixed modification time reported for every model. */
export const MODIFIED_AT = '2025-01-01T00:00:00Z';

/** Lower-cases a model name and adds ":latest" when it carries no tag. */
export function normalizeModelName(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? trimmed : `${trimmed}:latest`;
}

function withTag(name: string): string {
  const trimmed = name.trim();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? trimmed : `${trimmed}:latest`;
}

/** Builds the catalog entry for one configured model name. */
export function describeModel(configured: string): ModelInfo {
  const name = withTag(configured);
  const key = normalizeModelName(configured);
  const digest = createHash('sha256').update(`fake-ollama:${key}`).digest('hex');
  const embedding = key.includes('embed');
  const base = key.slice(key.lastIndexOf('/') + 1).split(':')[0] ?? key;
  const tag = key.split(':').pop() ?? 'latest';
  const sizeMatch = /(\d+(?:\.\d+)?)([bm])/.exec(tag);
  const family = embedding ? 'nomic-bert' : base.replace(/[\d.]+$/, '').replace(/[-_]+$/, '') || 'llama';
  const parameterSize = embedding ? '137M' : sizeMatch ? `${sizeMatch[1]}${(sizeMatch[2] ?? 'b').toUpperCase()}` : '3.2B';
  return {
    name,
    key,
    digest,
    size: 100_000_000 + (Number.parseInt(digest.slice(0, 8), 16) % 4_000_000_000),
    embedding,
    family,
    parameterSize,
    quantization: embedding ? 'F16' : 'Q4_K_M',
  };
}

/** The set of models a server knows, matched by normalised name. */
export class ModelCatalog {
  private readonly byKey = new Map<string, ModelInfo>();

  /** Builds a catalog from configured names (duplicates after normalisation are dropped). */
  constructor(names: readonly string[]) {
    for (const n of names) {
      const info = describeModel(n);
      if (!this.byKey.has(info.key)) this.byKey.set(info.key, info);
    }
  }

  /** Finds a model by name, with or without tag, case-insensitively. */
  find(name: string): ModelInfo | undefined {
    return this.byKey.get(normalizeModelName(name));
  }

  /** All known models in configuration order. */
  all(): ModelInfo[] {
    return [...this.byKey.values()];
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
