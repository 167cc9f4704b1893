import { describe, expect, it } from 'vitest';
import { ModelDigests } from '../src/engine/model-digests.js';

const tags = (digest: string) => ({ models: [{ name: 'llama3:latest', model: 'llama3:latest', digest }] });

describe('ModelDigests', () => {
  it('asks /api/tags once for every caller, trusts it, and normalises model names', async () => {
    let calls = 0;
    const digests = new ModelDigests({
      fetchTags: async () => {
        calls++;
        return tags('sha-1');
      },
    });
    const answers = await Promise.all([digests.digestOf('llama3'), digests.digestOf('Llama3:latest'), digests.digestOf('library/llama3')]);
    expect(answers).toEqual(['sha-1', 'sha-1', 'sha-1']);
    expect(await digests.digestOf('llama3')).toBe('sha-1');
    expect(calls).toBe(1);
  });

  it('a down Ollama keeps the last known digests and is asked at most once a second, even for an unknown model', async () => {
    let up = true;
    let calls = 0;
    const digests = new ModelDigests({
      ttlSeconds: 0.001,
      fetchTags: async () => {
        calls++;
        if (!up) throw new Error('connection refused');
        return tags('sha-1');
      },
    });
    expect(await digests.digestOf('llama3')).toBe('sha-1');
    up = false;
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 5; i++) {
      expect(await digests.digestOf('llama3')).toBe('sha-1');
      expect(await digests.digestOf('not-pulled')).toBeUndefined();
    }
    expect(calls).toBe(2);
  });
});
