import { Counter, Histogram, type Registry } from 'prom-client';
import type { Upstream } from './forwarder';

type Observer = { observe(value: number): void };

/** The gateway's own metric: time spent per request by target service and status, proxying included. */
export class GatewayMetrics {
  private readonly duration: Histogram<'service' | 'status'>;
  /** One labelled child per service and status, looked up without building label objects per request. */
  private readonly children = new Map<string, Observer>();

  constructor(registry: Registry, upstreams: readonly Upstream[] = []) {
    // Read from the pools at scrape time (each keeps its own total): the request path only bumps a number.
    const resends: Counter<'service'> = new Counter({
      name: 'stratum_gateway_upstream_resends_total',
      help: 'Safe requests sent again because a pooled connection had been closed by the service.',
      labelNames: ['service'],
      registers: [registry],
      collect: () => {
        resends.reset();
        for (const upstream of upstreams) resends.inc({ service: upstream.service }, upstream.resent);
      },
    });
    this.duration = new Histogram({
      name: 'stratum_gateway_request_duration_seconds',
      help: 'Gateway requests by target service and status: authentication, authorization, proxying.',
      labelNames: ['service', 'status'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  observe(service: string, status: number, latencyMs: number): void {
    const key = `${service} ${status}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.duration.labels({ service, status: String(status) });
      this.children.set(key, child);
    }
    child.observe(latencyMs / 1000);
  }
}
