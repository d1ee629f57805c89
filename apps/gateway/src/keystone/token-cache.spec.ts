import { TokenCache } from './token-cache';

describe('TokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('expires entries at their own deadline', () => {
    const cache = new TokenCache<string>(10, clock);
    cache.set('a', 'A', now + 100);
    expect(cache.peek('a')).toBe('A');
    now += 100;
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new TokenCache<number>(2, clock);
    cache.set('a', 1, now + 1000);
    cache.set('b', 2, now + 1000);
    cache.peek('a'); // a is now the most recently used
    cache.set('c', 3, now + 1000);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe(1);
    expect(cache.peek('c')).toBe(3);
  });

  it('shares one load between concurrent misses and does not cache a failure', async () => {
    const cache = new TokenCache<string>(10, clock);
    let loads = 0;
    let release!: (v: string) => void;
    const load = () => {
      loads++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const all = Promise.all([1, 2, 3].map(() => cache.getOrLoad('k', load, () => now + 1000)));
    release('V');
    expect(await all).toEqual(['V', 'V', 'V']);
    expect(loads).toBe(1);
    await expect(
      cache.getOrLoad(
        'x',
        () => Promise.reject(new Error('down')),
        () => now + 1000,
      ),
    ).rejects.toThrow('down');
    expect(cache.peek('x')).toBeUndefined();
  });

  it('keys by digest, never by the token itself', () => {
    const key = TokenCache.keyOf('gAAAAA-secret-token');
    expect(key).not.toContain('secret');
    expect(key).toHaveLength(43);
  });
});
