import { NATIVE_PROFILES } from './native-profiles.js';
import { OPENAI_PROFILES } from './openai-profiles.js';
import type { CachedEndpoint, EndpointProfile } from './profile.js';

const PROFILES: Readonly<Record<CachedEndpoint, EndpointProfile>> = { ...NATIVE_PROFILES, ...OPENAI_PROFILES };

/** The profile of a cached endpoint. */
export function profileOf(endpoint: CachedEndpoint): EndpointProfile {
  return PROFILES[endpoint];
}
