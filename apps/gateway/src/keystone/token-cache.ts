import { hash } from 'node:crypto';

/**
 * A bounded cache of validation results with a time to live, least recently used entries evicted
 * first. Keys are SHA-256 digests: the gateway never keeps callers' tokens themselves in memory longer
 * than a request. Concurrent misses for one key share a single lookup (one Keystone call per token,
 * however many requests arrive with it at once).
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  private readonly pending = new Map<string, Promise<T>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(token: string): string {
    // One-shot: no Hash object per request. Each one carried a weak handle, and thousands of those
    // dying per young-generation collection made its pauses 1–3 ms longer (bench:gateway, --trace-gc-nvp).
    return hash('sha256', token, 'base64url');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value while it is fresh, else `undefined` (an expired entry is dropped). */
  peek(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used goes to the end of the insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T, until: number): void {
    if (until <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /**
   * The fresh cached value, or `load()`'s (shared by concurrent callers), kept until `untilOf(value)`.
   * A failing load is not cached.
   */
  async getOrLoad(key: string, load: () => Promise<T>, untilOf: (value: T) => number): Promise<T> {
    const cached = this.peek(key);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    this.misses++;
    const loading = load()
      .then((value) => {
        this.set(key, value, untilOf(value));
        return value;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, loading);
    return loading;
  }
}
