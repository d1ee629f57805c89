export interface WaitForOptions {
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  /** Pause between two checks. */
  intervalMs?: number;
  /** Said in the error when the deadline passes. */
  description?: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, or the deadline passes.
 * Tests use this instead of sleeping for an arbitrary time and asserting afterwards.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}${why}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
