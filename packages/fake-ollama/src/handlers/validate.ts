import { HttpError } from '../http.js';
import type { ModelInfo } from '../models.js';
import type { ModelCall } from './context.js';

/** Which model route is being served; decides the wording of errors. */
export type ModelRoute = 'generate' | 'chat' | 'embed';

/** Resolves the request's model, throwing Ollama's 400/404 errors. */
export function requireModel(call: ModelCall, route: ModelRoute): { name: string; info: ModelInfo } {
  const name = call.body.model;
  if (name !== undefined && typeof name !== 'string') {
    const got = Array.isArray(name) ? 'array' : typeof name === 'boolean' ? 'bool' : typeof name;
    const typeName = route === 'generate' ? 'GenerateRequest' : route === 'chat' ? 'ChatRequest' : 'EmbedRequest';
    throw new HttpError(400, `json: cannot unmarshal ${got} into Go struct field ${typeName}.model of type string`);
  }
  if (!name || name.trim() === '') throw new HttpError(400, 'model is required');
  const info = call.settings.catalog.find(name);
  if (!info) {
    throw new HttpError(404, route === 'embed' ? `model "${name}" not found, try pulling it first` : `model '${name}' not found`);
  }
  if (info.embedding && route !== 'embed') {
    throw new HttpError(400, `"${name}" does not support ${route}`);
  }
  return { name, info };
}

/** True when keep_alive asks to unload the model (0, "0", "0s", ...). */
export function isUnload(keepAlive: unknown): boolean {
  if (typeof keepAlive === 'number') return keepAlive === 0;
  if (typeof keepAlive === 'string') return /^\s*0+(\.0*)?\s*(ns|us|µs|ms|s|m|h)?\s*$/.test(keepAlive);
  return false;
}
