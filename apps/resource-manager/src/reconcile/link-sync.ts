/**
 * Links between a tenant's environments (R-NW-4): every Service of one environment is mirrored into
 * each of the tenant's other environments as `<service>--<network>` — a headless, selectorless Service
 * whose Endpoints are the flat-network addresses of the target pods (link-manifests.ts has the scheme).
 *
 * Kept in step continuously: one Service informer and one Pod informer per cluster; a change in an
 * environment's namespace schedules (debounced) a sync of that tenant's links. The reconciler also
 * calls `syncInto` as one of its steps, so a new environment has its links before it is announced
 * ready, and stale mirrors (a service or an environment gone) are deleted.
 */
import { Informer, type KubeClusters, type KubeObject } from '@stratum/kube';
import type { Log } from '@stratum/telemetry';
import { LINK_LABELS, linkedServiceManifests } from '../environments/link-manifests';
import type { SnapshotEnvironment } from './tenant-snapshot';

interface ClusterCaches {
  services: Informer;
  pods: Informer;
  started: Promise<void>;
}

export interface LinkSyncOptions {
  /** Quiet time after a change before the tenant's links are synced. */
  debounceMs?: number;
  /** How long to wait for a cluster's first list before the step fails. */
  syncTimeoutMs?: number;
}

function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

export class LinkSync {
  private readonly caches = new Map<string, ClusterCaches>();
  /** `<cluster>/<namespace>` → tenant, for the environments seen by the reconciler. */
  private readonly tenantOfNamespace = new Map<string, string>();
  private readonly environments = new Map<string, SnapshotEnvironment[]>();
  /** What was last applied, by object key: unchanged mirrors are not sent again. */
  private readonly applied = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  readonly stats = { syncs: 0, applies: 0, deletes: 0, errors: 0 };

  constructor(
    private readonly kube: KubeClusters,
    private readonly log: Log,
    private readonly options: LinkSyncOptions = {},
  ) {}

  /**
   * Brings the mirrors inside `target` in line with the services of the tenant's other environments.
   * `repair` (the reconciler's resync) applies every mirror again, so hand-made drift is undone.
   */
  async syncInto(
    tenantId: string,
    target: SnapshotEnvironment,
    active: SnapshotEnvironment[],
    repair = false,
  ): Promise<void> {
    this.remember(tenantId, active);
    const targetCaches = await this.cachesOf(target.clusterId);
    const desired = new Map<string, KubeObject>();
    for (const source of active) {
      if (source.id === target.id) continue;
      const caches = await this.cachesOf(source.clusterId);
      const pods = caches.pods.list().filter((pod) => pod.metadata?.namespace === source.namespace);
      const services = caches.services
        .list()
        .filter((service) => service.metadata?.namespace === source.namespace)
        .filter((service) => !service.metadata?.labels?.[LINK_LABELS.linkedService]);
      for (const service of services) {
        for (const object of linkedServiceManifests({
          source: service,
          sourcePods: pods,
          from: { namespace: source.namespace, networkName: source.network.name, environmentId: source.id },
          into: { namespace: target.namespace, environmentId: target.id },
        })) {
          desired.set(objectKey(object), object);
        }
      }
    }
    const client = this.kube.client(target.clusterId);
    const existing = targetCaches.services
      .list()
      .filter((service) => service.metadata?.namespace === target.namespace)
      .filter((service) => service.metadata?.labels?.[LINK_LABELS.linkedFromEnvironment]);
    for (const stale of existing.filter(
      (service) => !desired.has(objectKey({ ...service, kind: 'Service' })),
    )) {
      const name = stale.metadata!.name!;
      for (const kind of ['Service', 'Endpoints']) {
        await client.delete({ apiVersion: 'v1', kind, namespace: target.namespace, name });
        this.applied.delete(`${kind}/${target.namespace}/${name}`);
      }
      this.stats.deletes++;
    }
    // Services before their Endpoints.
    const ordered = [...desired.values()].sort((a, b) =>
      a.kind === b.kind ? 0 : a.kind === 'Service' ? -1 : 1,
    );
    for (const object of ordered) {
      const key = objectKey(object);
      const body = JSON.stringify(object);
      const cached =
        object.kind === 'Service'
          ? targetCaches.services.get(object.metadata!.name!, target.namespace)
          : true;
      if (!repair && this.applied.get(key) === body && cached) continue;
      await client.apply(object, { force: true });
      this.applied.set(key, body);
      this.stats.applies++;
    }
    this.stats.syncs++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    await Promise.allSettled([...this.running]);
    await Promise.all([...this.caches.values()].flatMap((c) => [c.services.stop(), c.pods.stop()]));
  }

  private remember(tenantId: string, active: SnapshotEnvironment[]) {
    for (const [key, tenant] of this.tenantOfNamespace) {
      if (tenant === tenantId) this.tenantOfNamespace.delete(key);
    }
    for (const environment of active) {
      this.tenantOfNamespace.set(`${environment.clusterId}/${environment.namespace}`, tenantId);
    }
    this.environments.set(tenantId, active);
  }

  private cachesOf(cluster: string): Promise<ClusterCaches> {
    let caches = this.caches.get(cluster);
    if (!caches) {
      const client = this.kube.client(cluster);
      const onError = (error: Error) =>
        this.log.debug('link informer recovering', { cluster, error: error.message });
      const services = new Informer(client, 'v1', 'Service', { onError });
      const pods = new Informer(client, 'v1', 'Pod', { onError });
      const changed = (object: KubeObject) => this.changed(cluster, object);
      for (const informer of [services, pods]) {
        informer.on('add', changed).on('update', changed).on('delete', changed);
      }
      caches = {
        services,
        pods,
        started: Promise.all([services.start(), pods.start()]).then(() => undefined),
      };
      this.caches.set(cluster, caches);
    }
    const timeoutMs = this.options.syncTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      caches.started.then(() => caches),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`cluster ${cluster}: services and pods not listed within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private changed(cluster: string, object: KubeObject) {
    if (this.stopped) return;
    const tenantId = this.tenantOfNamespace.get(`${cluster}/${object.metadata?.namespace ?? ''}`);
    if (!tenantId) return;
    // Our own mirrors changing need no sync (unless deleted by hand: then resync repairs them).
    if (object.kind === 'Service' && object.metadata?.labels?.[LINK_LABELS.linkedFromEnvironment]) return;
    clearTimeout(this.timers.get(tenantId));
    this.timers.set(
      tenantId,
      setTimeout(() => {
        this.timers.delete(tenantId);
        const run = this.syncTenant(tenantId).finally(() => this.running.delete(run));
        this.running.add(run);
      }, this.options.debounceMs ?? 200),
    );
  }

  private async syncTenant(tenantId: string): Promise<void> {
    const active = this.environments.get(tenantId) ?? [];
    if (active.length < 2) return;
    for (const target of active) {
      try {
        await this.syncInto(tenantId, target, active);
      } catch (error) {
        this.stats.errors++;
        this.log.warn('link sync failed; the next change or resync retries', {
          tenantId,
          namespace: target.namespace,
          error: (error as Error).message,
        });
      }
    }
  }
}
