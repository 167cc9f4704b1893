/**
 * Model names as Ollama parses them: `[host/][namespace/]model[:tag]`, with the defaults
 * `registry.ollama.ai`, `library` and `latest` (types/model/name.go, ParseName and IsValid).
 */

/** The parts of a model name after the defaults are filled in. */
export interface ModelName {
  /** Registry host, e.g. "registry.ollama.ai" (may carry a port). */
  host: string;
  /** Namespace, e.g. "library". */
  namespace: string;
  /** Model, e.g. "llama3.2". */
  model: string;
  /** Tag, e.g. "latest". */
  tag: string;
}

/** The registry host Ollama assumes when a name has none. */
export const DEFAULT_HOST = 'registry.ollama.ai';
/** The namespace Ollama assumes when a name has none. */
export const DEFAULT_NAMESPACE = 'library';
/** The tag Ollama assumes when a name has none. */
export const DEFAULT_TAG = 'latest';

const MISSING = '\u0000missing';

// cutPromised in name.go: an empty side of a separator that is present makes the name invalid.
function cutLast(s: string, sep: string): [string, string] | undefined {
  const i = s.lastIndexOf(sep);
  if (i < 0) return undefined;
  return [s.slice(0, i) || MISSING, s.slice(i + sep.length) || MISSING];
}

function validPart(kind: 'host' | 'namespace' | 'model' | 'tag', s: string): boolean {
  const max = kind === 'host' ? 350 : 80;
  if (s.length < 1 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    const alnum = /[A-Za-z0-9_]/.test(c);
    if (i === 0) {
      if (!alnum) return false;
      continue;
    }
    if (c === '-' || alnum) continue;
    if (c === '.' && kind !== 'namespace') continue;
    if (c === ':' && kind === 'host') continue;
    return false;
  }
  return true;
}

/** Parses a name like Ollama (surrounding spaces trimmed); undefined when Ollama would say "invalid model name". */
export function parseModelName(raw: string): ModelName | undefined {
  let s = raw.trim();
  if (s === '') return undefined;
  let tag = '';
  if (s.lastIndexOf(':') > s.lastIndexOf('/')) {
    const cut = cutLast(s, ':') as [string, string];
    [s, tag] = cut;
  }
  let host = '';
  let namespace = '';
  let model: string;
  const m = cutLast(s, '/');
  if (!m) {
    model = s;
  } else {
    [s, model] = m;
    const n = cutLast(s, '/');
    if (!n) {
      namespace = s;
    } else {
      [s, namespace] = n;
      const scheme = s.indexOf('://');
      host = scheme >= 0 ? s.slice(scheme + 3) : s;
    }
  }
  const name = { host: host || DEFAULT_HOST, namespace: namespace || DEFAULT_NAMESPACE, model, tag: tag || DEFAULT_TAG };
  if (!validPart('host', name.host) || !validPart('namespace', name.namespace) || !validPart('model', name.model) || !validPart('tag', name.tag)) {
    return undefined;
  }
  return name;
}

/** Ollama's DisplayShortest: host and namespace only when they differ from the defaults, tag always. */
export function displayShortest(n: ModelName): string {
  let prefix = '';
  if (n.host.toLowerCase() !== DEFAULT_HOST) prefix = `${n.host}/${n.namespace}/`;
  else if (n.namespace.toLowerCase() !== DEFAULT_NAMESPACE) prefix = `${n.namespace}/`;
  return `${prefix}${n.model}:${n.tag}`;
}

/** The fully qualified name, e.g. "registry.ollama.ai/library/llama3.2:latest" (Ollama's Name.String). */
export function fullName(n: ModelName): string {
  return `${n.host}/${n.namespace}/${n.model}:${n.tag}`;
}

/**
 * The key two spellings of one model share: the shortest display form, lower-cased
 * ("LLAMA3.2", "library/llama3.2" and "registry.ollama.ai/library/llama3.2:latest" all give
 * "llama3.2:latest"). A name Ollama would reject is only trimmed, lower-cased and tagged.
 */
export function normalizeModelName(name: string): string {
  const parsed = parseModelName(name);
  if (parsed) return displayShortest(parsed).toLowerCase();
  const trimmed = name.trim().toLowerCase();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? trimmed : `${trimmed}:${DEFAULT_TAG}`;
}
