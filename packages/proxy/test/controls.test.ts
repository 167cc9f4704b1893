import { describe, expect, it } from 'vitest';
import {
  checkNamespace,
  DEFAULT_CONTROLS,
  InvalidControlError,
  MAX_TTL_SECONDS,
  parseControls,
  parseTtlHeader,
  resolveNamespace,
  splitNamespacePath,
} from '../src/index.js';

function refused(run: () => unknown): InvalidControlError {
  try {
    run();
  } catch (error) {
    expect(InvalidControlError.isInstance(error)).toBe(true);
    expect((error as InvalidControlError).code).toBe('TINYLLM_INVALID_CONTROL');
    return error as InvalidControlError;
  }
  throw new Error('expected an InvalidControlError');
}

describe('Cache-Control', () => {
  it('no header at all is the shared default object', () => {
    expect(parseControls(undefined, undefined)).toBe(DEFAULT_CONTROLS);
    expect(DEFAULT_CONTROLS).toEqual({
      noCache: false,
      noStore: false,
      onlyIfCached: false,
      maxAgeSeconds: undefined,
      staleIfErrorSeconds: undefined,
      ttl: undefined,
    });
    expect(Object.isFrozen(DEFAULT_CONTROLS)).toBe(true);
  });

  it.each([
    ['no-cache', { noCache: true }],
    ['no-store', { noStore: true }],
    ['only-if-cached', { onlyIfCached: true }],
    ['max-age=60', { maxAgeSeconds: 60 }],
    ['max-age=0', { maxAgeSeconds: 0 }],
    ['max-age="30"', { maxAgeSeconds: 30 }],
    ['stale-if-error=300', { staleIfErrorSeconds: 300 }],
    ['No-Cache', { noCache: true }],
    ['MAX-AGE=5', { maxAgeSeconds: 5 }],
    ['no-store, max-age=10, stale-if-error=20', { noStore: true, maxAgeSeconds: 10, staleIfErrorSeconds: 20 }],
    [' no-cache ,, no-store ', { noCache: true, noStore: true }],
    ['only-if-cached, max-age=3600', { onlyIfCached: true, maxAgeSeconds: 3600 }],
    ['no-cache, no-cache', { noCache: true }],
    ['max-age=7, max-age=7', { maxAgeSeconds: 7 }],
    ['max-age=99999999999', { maxAgeSeconds: 2_147_483_648 }],
    ['no-transform, max-stale=5, min-fresh=1, x-extension="a,b"', {}],
    ['', {}],
  ])('%j', (header, expected) => {
    expect(parseControls(header, undefined)).toEqual({ ...DEFAULT_CONTROLS, ...expected });
  });

  it.each([
    ['max-age', 'max-age needs a number of seconds'],
    ['max-age=', 'max-age needs a number of seconds'],
    ['max-age=-1', 'whole number of seconds'],
    ['max-age=1.5', 'whole number of seconds'],
    ['max-age=ten', 'whole number of seconds'],
    ['max-age=1e3', 'whole number of seconds'],
    ['stale-if-error', 'stale-if-error needs a number of seconds'],
    ['stale-if-error=soon', 'whole number of seconds'],
    ['no-cache=x', 'no-cache takes no value'],
    ['no-store=1', 'no-store takes no value'],
    ['only-if-cached=true', 'only-if-cached takes no value'],
    ['max-age=1, max-age=2', 'max-age is given twice with different values'],
    ['only-if-cached, no-cache', 'contradict'],
  ])('refuses %j', (header, reason) => {
    const error = refused(() => parseControls(header, undefined));
    expect(error.source).toBe('Cache-Control');
    expect(error.message).toContain('Cache-Control');
    expect(error.message).toContain(reason);
  });
});

describe('X-TinyLLM-TTL', () => {
  it.each([
    ['1', 1],
    ['3600', 3600],
    [' 60 ', 60],
    ['never', null],
    ['NEVER', null],
    [String(MAX_TTL_SECONDS), MAX_TTL_SECONDS],
  ])('%j', (header, ttl) => {
    expect(parseTtlHeader(header)).toBe(ttl);
    expect(parseControls(undefined, header).ttl).toBe(ttl);
  });

  it('refuses 0 as ambiguous, saying what to send instead', () => {
    const error = refused(() => parseTtlHeader('0'));
    expect(error.source).toBe('X-TinyLLM-TTL');
    expect(error.value).toBe('0');
    expect(error.message).toMatch(/0 is ambiguous.*"never".*no-store/);
  });

  it.each(['', '-5', '1.5', 'forever', '1h', '60s', '0x10', String(MAX_TTL_SECONDS + 1), '60, 120'])('refuses %j', (header) => {
    const error = refused(() => parseTtlHeader(header));
    expect(error.message).toContain('X-TinyLLM-TTL');
  });

  it('combines with Cache-Control', () => {
    expect(parseControls('no-cache', '120')).toEqual({ ...DEFAULT_CONTROLS, noCache: true, ttl: 120 });
  });
});

describe('namespaces', () => {
  it.each(['a', 'team-a', 'Team_A.v2', '0', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(checkNamespace(name, 'X-TinyLLM-Namespace')).toBe(name);
  });

  it.each(['', '-a', '.hidden', '..', 'a/b', 'a%2Fb', 'a:b', 'a b', 'a\u0000b', 'é', 'x'.repeat(65), 'x'.repeat(10_000)])('refuses %j', (name) => {
    const error = refused(() => checkNamespace(name, 'X-TinyLLM-Namespace'));
    expect(error.source).toBe('X-TinyLLM-Namespace');
    expect(error.value.length).toBeLessThanOrEqual(103);
  });

  it('splits the /ns/<name>/ path prefix', () => {
    expect(splitNamespacePath('/ns/team-a/api/generate')).toEqual({ namespace: 'team-a', path: '/api/generate' });
    expect(splitNamespacePath('/ns/team-a/v1/chat/completions?x=1')).toEqual({ namespace: 'team-a', path: '/v1/chat/completions?x=1' });
    expect(splitNamespacePath('/ns/team-a')).toEqual({ namespace: 'team-a', path: '/' });
    expect(splitNamespacePath('/ns/team-a?x=1')).toEqual({ namespace: 'team-a', path: '/?x=1' });
    expect(splitNamespacePath('/api/generate')).toEqual({ namespace: undefined, path: '/api/generate' });
    expect(splitNamespacePath('/nsx/a/api')).toEqual({ namespace: undefined, path: '/nsx/a/api' });
  });

  it.each(['/ns/', '/ns//api/generate', '/ns/a%2Fb/api/generate', '/ns/../api/tags', '/ns/a:b/api'])('refuses the path %j', (path) => {
    expect(refused(() => splitNamespacePath(path)).source).toBe('path prefix /ns/<name>/');
  });

  it('takes the header or the path, and refuses two different names', () => {
    expect(resolveNamespace(undefined, undefined)).toBeUndefined();
    expect(resolveNamespace(' team-a ', undefined)).toBe('team-a');
    expect(resolveNamespace(undefined, 'team-a')).toBe('team-a');
    expect(resolveNamespace('team-a', 'team-a')).toBe('team-a');
    expect(refused(() => resolveNamespace('team-b', 'team-a')).message).toContain('/ns/team-a/');
    expect(refused(() => resolveNamespace('a/b', undefined)).source).toBe('X-TinyLLM-Namespace');
  });
});
