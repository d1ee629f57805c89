export type HealthCheck = () => Promise<{ ok: boolean; detail?: string }>;

export interface HealthReport {
  status: 'ready' | 'not-ready';
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Readiness checks of one service: database, bus, consumers, relay, plus any the service adds. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private stoppingReason: string | undefined;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  markStopping(reason: string): void {
    this.stoppingReason = reason;
  }

  async report(timeoutMs = 2_000): Promise<HealthReport> {
    const checks: HealthReport['checks'] = {};
    if (this.stoppingReason) checks.lifecycle = { ok: false, detail: this.stoppingReason };
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          checks[name] = await Promise.race([
            check(),
            new Promise<{ ok: boolean; detail: string }>((resolve) => {
              timer = setTimeout(
                () => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
                timeoutMs,
              );
            }),
          ]);
        } catch (error) {
          checks[name] = { ok: false, detail: (error as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ok = Object.values(checks).every((c) => c.ok);
    return { status: ok ? 'ready' : 'not-ready', checks };
  }
}
