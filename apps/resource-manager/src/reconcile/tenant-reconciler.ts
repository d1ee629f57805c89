/**
 * Converges one tenant's Kubernetes objects to its desired state in the database (issue #4 §6), with
 * server-side apply so every step is idempotent: running it again after a crash, or after someone
 * changed an object by hand, gives the same objects. The steps, in order:
 *
 *   for every environment that should exist: namespace and system objects (network attachment,
 *   policies incl. the links' policy, RBAC: the Keystone groups' bindings and the tenant roles mirrored
 *   from the members the gateway publishes, R-AU-6; pull secret, quota, limits) → NFS provisioning
 *   (CSIDriver, a StorageClass per tenant and server) → the tenant's volumes (PV + PVC) → linked
 *   services from the tenant's other environments;
 *   then removals (volumes, NFS assignments, environments) and finally readiness: what became ready is
 *   marked so and announced on the bus in the same transaction (outbox), once.
 *
 * Step names are what operations report (`<namespace>/<step>`), and what the crash test hook names.
 */
import {
  EnvironmentReady,
  EnvironmentRemoved,
  EnvironmentsLinked,
  NetworkAssigned,
  NetworkUnassigned,
  NfsServerAssigned,
  NfsServerUnassigned,
  VolumeDeleted,
  VolumeReady,
} from '@stratum/contracts';
import { type KubeClusters, type KubeObject, waitForObject } from '@stratum/kube';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { Log } from '@stratum/telemetry';
import type { EntityManager } from 'typeorm';
import {
  dnsLabel,
  ENVIRONMENT_LABELS,
  environmentManifests,
  type RegistryPullCredentials,
  TENANT_NETWORK_ATTACHMENT,
} from '../environments/environment-manifests';
import { linkDnsSuffix, linkPolicy } from '../environments/link-manifests';
import type { Operations } from '../operations/operations';
import { csiDriverObject, nfsStorageClass, volumeManifests } from '../storage/nfs-manifests';
import type { LinkSync } from './link-sync';
import { readSnapshot, type SnapshotEnvironment, type TenantSnapshot } from './tenant-snapshot';
import { returning } from '../common/sql';

export interface ReconcileStep {
  name: string;
  run: () => Promise<void>;
}

export interface ReconcilerOptions {
  registry: RegistryPullCredentials;
  /** How long a namespace or a claim may take to become ready before the operation fails. */
  readyTimeoutMs: number;
  /** Test hook (issue #4 acceptance): called after each step; the fault injector may kill the process. */
  afterStep?: (step: string) => void;
}

export interface ReconcileResult {
  generation: number;
  steps: number;
}

const VOLUME_LABEL = 'stratum.io/volume';

export class TenantReconciler {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly kube: KubeClusters,
    private readonly outbox: Outbox,
    private readonly operations: Operations,
    private readonly links: LinkSync,
    private readonly log: Log,
    private readonly options: ReconcilerOptions,
  ) {}

  /** Converges the tenant; throws on the first failing step (the worker retries with backoff). */
  async reconcile(tenantId: string): Promise<ReconcileResult | undefined> {
    const snapshot = await readSnapshot(this.database.dataSource.manager, tenantId);
    if (!snapshot) return undefined;
    const reporting = await this.operations.hasOpen(tenantId, snapshot.generation);
    const steps = this.plan(snapshot);
    for (const [index, step] of steps.entries()) {
      if (reporting) {
        await this.database.transaction((manager) =>
          this.operations.progress(manager, tenantId, snapshot.generation, {
            step: step.name,
            stepsDone: index,
            stepsTotal: steps.length,
            message: `step ${index + 1} of ${steps.length}: ${step.name}`,
          }),
        );
      }
      const started = performance.now();
      await step.run();
      this.log.debug('reconcile step done', {
        tenantId,
        step: step.name,
        ms: Math.round(performance.now() - started),
      });
      this.options.afterStep?.(step.name);
    }
    if (reporting) {
      await this.database.transaction((manager) =>
        this.operations.succeed(manager, tenantId, snapshot.generation, steps.length),
      );
    }
    this.log.debug('tenant converged', { tenantId, generation: snapshot.generation, steps: steps.length });
    return { generation: snapshot.generation, steps: steps.length };
  }

  plan(snapshot: TenantSnapshot): ReconcileStep[] {
    const active = snapshot.environments.filter((e) => e.state !== 'removing');
    const steps: ReconcileStep[] = [];
    const provisionedClusters = new Set<string>();
    for (const environment of active) {
      const ns = environment.namespace;
      steps.push({
        name: `${ns}/environment`,
        run: () => this.applyEnvironment(snapshot, environment, active),
      });
      steps.push({
        name: `${ns}/nfs-provisioning`,
        run: async () => {
          if (provisionedClusters.has(environment.clusterId)) return;
          await this.applyProvisioning(snapshot, environment.clusterId);
          provisionedClusters.add(environment.clusterId);
        },
      });
      steps.push({ name: `${ns}/volumes`, run: () => this.applyVolumes(snapshot, environment) });
      steps.push({
        name: `${ns}/links`,
        run: () => this.links.syncInto(snapshot.tenant.id, environment, active, true),
      });
    }
    for (const volume of snapshot.volumes.filter((v) => v.state === 'deleting')) {
      steps.push({ name: `volume/${volume.name}/delete`, run: () => this.deleteVolume(snapshot, volume.id) });
    }
    for (const assignment of snapshot.nfs.filter((a) => a.state === 'removing')) {
      steps.push({
        name: `nfs/${assignment.server.name}/remove`,
        run: () => this.removeProvisioning(snapshot, assignment.nfsServerId),
      });
    }
    for (const environment of snapshot.environments.filter((e) => e.state === 'removing')) {
      steps.push({
        name: `${environment.namespace}/remove`,
        run: () => this.removeEnvironment(snapshot, environment),
      });
    }
    for (const environment of active) {
      steps.push({
        name: `${environment.namespace}/ready`,
        run: () => this.awaitEnvironment(snapshot, environment),
      });
    }
    steps.push({ name: 'announce', run: () => this.announceReady(snapshot.tenant.id) });
    return steps;
  }

  // --- apply -------------------------------------------------------------------------------------

  private async applyEnvironment(
    snapshot: TenantSnapshot,
    environment: SnapshotEnvironment,
    active: SnapshotEnvironment[],
  ) {
    const client = this.kube.client(environment.clusterId);
    const [namespace, ...rest] = environmentManifests({
      tenant: snapshot.tenant,
      network: environment.network,
      members: snapshot.members,
      registry: this.options.registry,
    });
    await client.apply(namespace, { force: true });
    // Roles before the RoleBindings naming them (R-AU-6): a service account that may bind a Role only
    // because it holds the Role's rights (no `bind` verb) is refused while the Role does not exist.
    const roles = rest.filter((object) => object.kind === 'Role');
    await Promise.all(roles.map((object) => client.apply(object, { force: true })));
    const linked = active
      .filter((other) => other.id !== environment.id)
      .map((other) => ({ name: other.network.name, cidr: other.network.cidr }));
    await Promise.all(
      [
        ...rest.filter((object) => object.kind !== 'Role'),
        linkPolicy({ namespace: environment.namespace, linkedNetworks: linked }),
      ].map((object) => client.apply(object, { force: true })),
    );
  }

  private async applyProvisioning(snapshot: TenantSnapshot, clusterId: string) {
    const installed = snapshot.nfs.filter((a) => a.state !== 'removing');
    if (!installed.length) return;
    const client = this.kube.client(clusterId);
    await client.apply(csiDriverObject(), { force: true });
    await Promise.all(
      installed.map((assignment) =>
        client.apply(nfsStorageClass(snapshot.tenant, assignment.server), { force: true }),
      ),
    );
  }

  private volumeObjects(snapshot: TenantSnapshot, environment: SnapshotEnvironment): KubeObject[] {
    const servers = new Map(
      snapshot.nfs.filter((a) => a.state !== 'removing').map((a) => [a.nfsServerId, a]),
    );
    return snapshot.volumes
      .filter((volume) => volume.state !== 'deleting' && servers.has(volume.nfsServerId))
      .flatMap((volume) => {
        const assignment = servers.get(volume.nfsServerId)!;
        return volumeManifests({
          tenant: snapshot.tenant,
          server: assignment.server,
          volume,
          namespace: environment.namespace,
          storageClassName: assignment.storageClassName,
        });
      });
  }

  private async applyVolumes(snapshot: TenantSnapshot, environment: SnapshotEnvironment) {
    const client = this.kube.client(environment.clusterId);
    // PersistentVolumes first: a claim naming its volume binds at once.
    const objects = this.volumeObjects(snapshot, environment);
    await Promise.all(
      objects.filter((o) => o.kind === 'PersistentVolume').map((o) => client.apply(o, { force: true })),
    );
    await Promise.all(
      objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => client.apply(o, { force: true })),
    );
  }

  // --- remove ------------------------------------------------------------------------------------

  private async deleteVolume(snapshot: TenantSnapshot, volumeId: string) {
    const volume = snapshot.volumes.find((v) => v.id === volumeId)!;
    for (const environment of snapshot.environments) {
      const client = this.kube.client(environment.clusterId);
      await client.delete({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: environment.namespace,
        name: volume.claimName,
      });
    }
    await this.deletePersistentVolumes(snapshot, `${VOLUME_LABEL}=${volume.id}`);
    await this.database.transaction(async (manager) => {
      const gone = await returning<unknown>(
        manager,
        `DELETE FROM volume WHERE id = $1 AND state = 'deleting' RETURNING id`,
        [volume.id],
      );
      if (!gone.length) return;
      await this.outbox.add(manager, VolumeDeleted.Topic, {
        tenantId: snapshot.tenant.id,
        volumeId: volume.id,
        name: volume.name,
        operationId: await this.operationFor(manager, snapshot.tenant.id, volume.id),
      });
    });
  }

  private async removeProvisioning(snapshot: TenantSnapshot, nfsServerId: string) {
    const assignment = snapshot.nfs.find((a) => a.nfsServerId === nfsServerId)!;
    for (const cluster of this.kube.names()) {
      await this.kube.client(cluster).delete({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        name: assignment.storageClassName,
      });
    }
    await this.database.transaction(async (manager) => {
      const gone = await returning<unknown>(
        manager,
        `DELETE FROM nfs_assignment WHERE nfs_server_id = $1 AND tenant_id = $2 AND state = 'removing' RETURNING nfs_server_id`,
        [nfsServerId, snapshot.tenant.id],
      );
      if (!gone.length) return;
      await this.outbox.add(manager, NfsServerUnassigned.Topic, {
        tenantId: snapshot.tenant.id,
        nfsServerId,
        tier: assignment.server.tier,
        storageClassName: assignment.storageClassName,
        environmentIds: snapshot.environments.filter((e) => e.state !== 'removing').map((e) => e.id),
        operationId: await this.operationFor(manager, snapshot.tenant.id, nfsServerId),
      });
    });
  }

  private async removeEnvironment(snapshot: TenantSnapshot, environment: SnapshotEnvironment) {
    const client = this.kube.client(environment.clusterId);
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: environment.namespace };
    await client.delete(ref);
    await waitForObject(client, ref, (object) => object === undefined, this.options.readyTimeoutMs);
    await this.deletePersistentVolumes(
      snapshot,
      `${ENVIRONMENT_LABELS.tenant}=${dnsLabel(snapshot.tenant.id)}`,
      (pv) =>
        (pv as { spec?: { claimRef?: { namespace?: string } } }).spec?.claimRef?.namespace ===
        environment.namespace,
      [environment.clusterId],
    );
    await this.database.transaction(async (manager) => {
      const gone = await returning<unknown>(
        manager,
        `DELETE FROM environment WHERE id = $1 AND state = 'removing' RETURNING id`,
        [environment.id],
      );
      if (!gone.length) return;
      const operationId = await this.operationFor(manager, snapshot.tenant.id, environment.id);
      await this.outbox.add(manager, NetworkUnassigned.Topic, {
        tenantId: snapshot.tenant.id,
        networkId: environment.networkId,
        environmentId: environment.id,
        operationId,
      });
      await this.outbox.add(manager, EnvironmentRemoved.Topic, {
        tenantId: snapshot.tenant.id,
        environmentId: environment.id,
        networkId: environment.networkId,
        clusterId: environment.clusterId,
        namespace: environment.namespace,
        operationId,
      });
    });
  }

  private async deletePersistentVolumes(
    snapshot: TenantSnapshot,
    labelSelector: string,
    filter: (pv: KubeObject) => boolean = () => true,
    clusters: string[] = [...new Set(snapshot.environments.map((e) => e.clusterId))],
  ) {
    for (const cluster of clusters) {
      const client = this.kube.client(cluster);
      const list = await client.list('v1', 'PersistentVolume', { labelSelector });
      await Promise.all(
        list.items
          .filter(filter)
          .map((pv) =>
            client.delete({ apiVersion: 'v1', kind: 'PersistentVolume', name: pv.metadata!.name! }),
          ),
      );
    }
  }

  // --- readiness ---------------------------------------------------------------------------------

  private async awaitEnvironment(snapshot: TenantSnapshot, environment: SnapshotEnvironment) {
    const client = this.kube.client(environment.clusterId);
    const timeout = this.options.readyTimeoutMs;
    await waitForObject<KubeObject & { status?: { phase?: string } }>(
      client,
      { apiVersion: 'v1', kind: 'Namespace', name: environment.namespace },
      (ns) =>
        ns?.status?.phase === 'Active'
          ? { ready: true, reason: 'active' }
          : { ready: false, reason: `namespace phase ${ns?.status?.phase ?? 'missing'}` },
      timeout,
    );
    const claims = this.volumeObjects(snapshot, environment).filter(
      (o) => o.kind === 'PersistentVolumeClaim',
    );
    await Promise.all(
      claims.map((claim) =>
        waitForObject<KubeObject & { status?: { phase?: string } }>(
          client,
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            namespace: environment.namespace,
            name: claim.metadata!.name!,
          },
          (pvc) =>
            pvc?.status?.phase === 'Bound'
              ? { ready: true, reason: 'bound' }
              : {
                  ready: false,
                  reason: `claim phase ${pvc?.status?.phase ?? 'missing'} (is the PersistentVolume binder running?)`,
                },
          timeout,
        ),
      ),
    );
  }

  /**
   * Marks what is now in place as ready and announces it, in one transaction per tenant. Guarded by
   * the state each row is in, so a repeated reconcile announces nothing twice; an environment that
   * becomes ready re-announces the tenant's NFS servers and volumes with the new environment list.
   */
  private async announceReady(tenantId: string) {
    await this.database.transaction(async (manager) => {
      const snapshot = (await readSnapshot(manager, tenantId))!;
      const newEnvironments = await returning<{ id: string }>(
        manager,
        `UPDATE environment SET state = 'ready', ready_at = now() WHERE tenant_id = $1 AND state = 'creating' RETURNING id`,
        [tenantId],
      );
      const newAssignments = await returning<{ nfs_server_id: string }>(
        manager,
        `UPDATE nfs_assignment SET state = 'ready' WHERE tenant_id = $1 AND state = 'installing' RETURNING nfs_server_id`,
        [tenantId],
      );
      const newVolumes = await returning<{ id: string }>(
        manager,
        `UPDATE volume SET state = 'ready', updated_at = now() WHERE tenant_id = $1 AND state IN ('creating', 'resizing') RETURNING id`,
        [tenantId],
      );
      const ready = snapshot.environments.filter((e) => e.state !== 'removing');
      const readyIds = ready.map((e) => e.id);
      const freshEnvironments = new Set(newEnvironments.map((r) => r.id));
      for (const environment of ready.filter((e) => freshEnvironments.has(e.id))) {
        const operationId = await this.operationFor(manager, tenantId, environment.id);
        await this.outbox.add(manager, NetworkAssigned.Topic, {
          tenantId,
          networkId: environment.networkId,
          environmentId: environment.id,
          operationId,
        });
        await this.outbox.add(manager, EnvironmentReady.Topic, {
          tenantId,
          environmentId: environment.id,
          networkId: environment.networkId,
          clusterId: environment.clusterId,
          namespace: environment.namespace,
          securityDomain: environment.securityDomain,
          isolationDomain: environment.isolationDomain,
          networkAttachment: TENANT_NETWORK_ATTACHMENT,
          dnsSuffix: linkDnsSuffix(environment.networkName),
          operationId,
        });
      }
      if (freshEnvironments.size && ready.length >= 2) {
        await this.outbox.add(manager, EnvironmentsLinked.Topic, {
          tenantId,
          environmentIds: readyIds,
          links: ready.flatMap((from) =>
            ready
              .filter((to) => to.id !== from.id)
              .map((to) => ({ from: from.id, to: to.id, dnsSuffix: linkDnsSuffix(to.networkName) })),
          ),
        });
      }
      const freshAssignments = new Set(newAssignments.map((r) => r.nfs_server_id));
      for (const assignment of snapshot.nfs.filter((a) => a.state !== 'removing')) {
        if (!freshAssignments.has(assignment.nfsServerId) && !freshEnvironments.size) continue;
        await this.outbox.add(manager, NfsServerAssigned.Topic, {
          tenantId,
          nfsServerId: assignment.nfsServerId,
          tier: assignment.server.tier,
          storageClassName: assignment.storageClassName,
          environmentIds: readyIds,
          operationId: await this.operationFor(manager, tenantId, assignment.nfsServerId),
        });
      }
      const freshVolumes = new Set(newVolumes.map((r) => r.id));
      for (const volume of snapshot.volumes.filter((v) => v.state !== 'deleting')) {
        if (!freshVolumes.has(volume.id) && !freshEnvironments.size) continue;
        await this.outbox.add(manager, VolumeReady.Topic, {
          tenantId,
          volumeId: volume.id,
          name: volume.name,
          nfsServerId: volume.nfsServerId,
          sizeBytes: volume.sizeBytes,
          exportSubPath: volume.exportSubPath,
          claimName: volume.claimName,
          environmentIds: readyIds,
          operationId: await this.operationFor(manager, tenantId, volume.id),
        });
      }
    });
  }

  /** The latest operation on the target (events name the operation that caused them). */
  private async operationFor(manager: EntityManager, tenantId: string, targetId: string): Promise<string> {
    const rows = await manager.query<Array<{ id: string }>>(
      'SELECT id FROM operation WHERE tenant_id = $1 AND target_id = $2 ORDER BY created_at DESC LIMIT 1',
      [tenantId, targetId],
    );
    return rows[0]?.id ?? `resync-${tenantId}`;
  }
}
