import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The reconciler's metrics (docs/resources.md): what an operator alerts on when tenants do not converge. */
export class ReconcileMetrics {
  readonly reconciles: Counter<'result'>;
  readonly seconds: Histogram;
  readonly pendingTenants: Gauge;
  readonly failingTenants: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'stratum_reconcile_total',
      help: 'Tenant reconciles, by result (converged, failed).',
      labelNames: ['result'],
      registers,
    });
    this.seconds = new Histogram({
      name: 'stratum_reconcile_duration_seconds',
      help: 'Time to converge one tenant (every step, readiness waits included).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.pendingTenants = new Gauge({
      name: 'stratum_reconcile_pending_tenants',
      help: 'Tenants whose desired state is ahead of what was converged.',
      registers,
    });
    this.failingTenants = new Gauge({
      name: 'stratum_reconcile_failing_tenants',
      help: 'Tenants whose last reconcile failed (retrying with backoff).',
      registers,
    });
  }
}
