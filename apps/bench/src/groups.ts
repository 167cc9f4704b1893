/** The groups, in the order run.ts runs them; loaded lazily so a missing package breaks only its group. */
import type { Group } from './group.js';

export const GROUP_LOADERS = {
  memory: async (): Promise<Group> => (await import('./memory.js')).group,
  'memory-bytes': async (): Promise<Group> => (await import('./memory-bytes.js')).group,
  redis: async (): Promise<Group> => (await import('./redis.js')).group,
  ollama: async (): Promise<Group> => (await import('./ollama.js')).group,
  stream: async (): Promise<Group> => (await import('./stream.js')).group,
  cli: async (): Promise<Group> => (await import('./cli.js')).group,
  proxy: async (): Promise<Group> => (await import('./proxy.js')).group,
} as const;

export type GroupName = keyof typeof GROUP_LOADERS;

/** --only values: "memory" selects both memory groups (speed and bytes). */
export const ONLY_ALIASES: Record<string, GroupName[]> = {
  memory: ['memory', 'memory-bytes'],
  'memory-bytes': ['memory-bytes'],
  redis: ['redis'],
  ollama: ['ollama'],
  stream: ['stream'],
  cli: ['cli'],
  proxy: ['proxy'],
};
