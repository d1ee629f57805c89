import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows the burst, then the rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(limiter.take('t1')).toBe(0);
    expect(limiter.take('t1')).toBeCloseTo(0.1, 5);
    // another tenant is not affected
    expect(limiter.take('t2')).toBe(0);
    now += 100; // 0.1 s → one token
    expect(limiter.take('t1')).toBe(0);
    expect(limiter.take('t1')).toBeGreaterThan(0);
  });

  it('forgets buckets that are full again', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    limiter.take('t1');
    limiter.prune();
    expect(limiter.size).toBe(1);
    now += 1_000;
    limiter.prune();
    expect(limiter.size).toBe(0);
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter(0, 1);
    for (let i = 0; i < 100; i++) expect(limiter.take('t')).toBe(0);
  });
});
