/**
 * Keeps the orchestrator's view of each tenant's resources (R-OR-3) from the resource-manager's
 * events. Handlers are idempotent (the inbox drops duplicates; every write is an upsert guarded by
 * the event time) and order-tolerant across topics: a row changes only for an event at least as new as
 * the one that last wrote it, and resources whose ids are never reused (environments, volumes,
 * networks) stay removed once a removal was seen.
 */
import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  EnvironmentReady,
  EnvironmentRemoved,
  type EventEnvelope,
  NetworkAssigned,
  NetworkDeleted,
  NetworkRecorded,
  NetworkUnassigned,
  NfsServerAssigned,
  NfsServerUnassigned,
  VolumeDeleted,
  VolumeReady,
} from '@stratum/contracts';
import type { EventContext } from '@stratum/messaging';
import { OnEvent } from '@stratum/messaging/nest';

type Envelope<T> = EventEnvelope<T>;

@Controller()
export class TenantViewConsumer {
  @OnEvent(NetworkRecorded.Topic)
  async networkRecorded(@Payload() event: Envelope<NetworkRecorded.Value>, @Ctx() { manager }: EventContext) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_network (network_id, name, cidr, gateway, security_domain, isolation_domain, cluster_id, event_time)
       VALUES ($1, $2, $3, $8, $4, $5, $6, $7)
       ON CONFLICT (network_id) DO UPDATE SET name = EXCLUDED.name, cidr = EXCLUDED.cidr, gateway = EXCLUDED.gateway,
         security_domain = EXCLUDED.security_domain, isolation_domain = EXCLUDED.isolation_domain,
         cluster_id = EXCLUDED.cluster_id, event_time = EXCLUDED.event_time
       WHERE NOT tv_network.removed AND tv_network.event_time <= EXCLUDED.event_time`,
      [d.networkId, d.name, d.cidr, d.securityDomain, d.isolationDomain, d.clusterId, event.time, d.gateway],
    );
  }

  @OnEvent(NetworkDeleted.Topic)
  async networkDeleted(@Payload() event: Envelope<NetworkDeleted.Value>, @Ctx() { manager }: EventContext) {
    await manager.query(
      `INSERT INTO tv_network (network_id, name, cidr, security_domain, isolation_domain, cluster_id, removed, event_time)
       VALUES ($1, '', '', '', '', '', true, $2)
       ON CONFLICT (network_id) DO UPDATE SET removed = true, event_time = GREATEST(tv_network.event_time, EXCLUDED.event_time)`,
      [event.data.networkId, event.time],
    );
  }

  @OnEvent(NetworkAssigned.Topic)
  async networkAssigned(@Payload() event: Envelope<NetworkAssigned.Value>, @Ctx() { manager }: EventContext) {
    const d = event.data;
    // The environment exists from now on; its details come with environment-ready.
    await manager.query(
      `INSERT INTO tv_environment (environment_id, tenant_id, network_id, event_time) VALUES ($1, $2, $3, $4)
       ON CONFLICT (environment_id) DO NOTHING`,
      [d.environmentId, d.tenantId, d.networkId, event.time],
    );
  }

  @OnEvent(EnvironmentReady.Topic)
  async environmentReady(
    @Payload() event: Envelope<EnvironmentReady.Value>,
    @Ctx() { manager }: EventContext,
  ) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_environment (environment_id, tenant_id, network_id, cluster_id, namespace, security_domain,
         isolation_domain, network_attachment, dns_suffix, ready, event_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10)
       ON CONFLICT (environment_id) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, namespace = EXCLUDED.namespace,
         security_domain = EXCLUDED.security_domain, isolation_domain = EXCLUDED.isolation_domain,
         network_attachment = EXCLUDED.network_attachment, dns_suffix = EXCLUDED.dns_suffix, ready = true,
         event_time = GREATEST(tv_environment.event_time, EXCLUDED.event_time)
       WHERE NOT tv_environment.removed`,
      [
        d.environmentId,
        d.tenantId,
        d.networkId,
        d.clusterId,
        d.namespace,
        d.securityDomain,
        d.isolationDomain,
        d.networkAttachment,
        d.dnsSuffix,
        event.time,
      ],
    );
  }

  @OnEvent(EnvironmentRemoved.Topic)
  async environmentRemoved(
    @Payload() event: Envelope<EnvironmentRemoved.Value>,
    @Ctx() { manager }: EventContext,
  ) {
    await this.removeEnvironment(
      manager,
      event.data.environmentId,
      event.data.tenantId,
      event.data.networkId,
      event.time,
    );
  }

  @OnEvent(NetworkUnassigned.Topic)
  async networkUnassigned(
    @Payload() event: Envelope<NetworkUnassigned.Value>,
    @Ctx() { manager }: EventContext,
  ) {
    await this.removeEnvironment(
      manager,
      event.data.environmentId,
      event.data.tenantId,
      event.data.networkId,
      event.time,
    );
  }

  @OnEvent(NfsServerAssigned.Topic)
  async nfsAssigned(@Payload() event: Envelope<NfsServerAssigned.Value>, @Ctx() { manager }: EventContext) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_nfs_server (tenant_id, nfs_server_id, tier, storage_class_name, event_time) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, nfs_server_id) DO UPDATE SET tier = EXCLUDED.tier,
         storage_class_name = EXCLUDED.storage_class_name, removed = false, event_time = EXCLUDED.event_time
       WHERE tv_nfs_server.event_time <= EXCLUDED.event_time`,
      [d.tenantId, d.nfsServerId, d.tier, d.storageClassName, event.time],
    );
  }

  @OnEvent(NfsServerUnassigned.Topic)
  async nfsUnassigned(
    @Payload() event: Envelope<NfsServerUnassigned.Value>,
    @Ctx() { manager }: EventContext,
  ) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_nfs_server (tenant_id, nfs_server_id, tier, storage_class_name, removed, event_time)
       VALUES ($1, $2, $3, $4, true, $5)
       ON CONFLICT (tenant_id, nfs_server_id) DO UPDATE SET removed = true, event_time = EXCLUDED.event_time
       WHERE tv_nfs_server.event_time <= EXCLUDED.event_time`,
      [d.tenantId, d.nfsServerId, d.tier, d.storageClassName, event.time],
    );
  }

  @OnEvent(VolumeReady.Topic)
  async volumeReady(@Payload() event: Envelope<VolumeReady.Value>, @Ctx() { manager }: EventContext) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_volume (volume_id, tenant_id, name, nfs_server_id, size_bytes, export_sub_path, claim_name, event_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (volume_id) DO UPDATE SET name = EXCLUDED.name, nfs_server_id = EXCLUDED.nfs_server_id,
         size_bytes = EXCLUDED.size_bytes, export_sub_path = EXCLUDED.export_sub_path, claim_name = EXCLUDED.claim_name,
         event_time = EXCLUDED.event_time
       WHERE NOT tv_volume.removed AND tv_volume.event_time <= EXCLUDED.event_time`,
      [d.volumeId, d.tenantId, d.name, d.nfsServerId, d.sizeBytes, d.exportSubPath, d.claimName, event.time],
    );
  }

  @OnEvent(VolumeDeleted.Topic)
  async volumeDeleted(@Payload() event: Envelope<VolumeDeleted.Value>, @Ctx() { manager }: EventContext) {
    const d = event.data;
    await manager.query(
      `INSERT INTO tv_volume (volume_id, tenant_id, name, removed, event_time) VALUES ($1, $2, $3, true, $4)
       ON CONFLICT (volume_id) DO UPDATE SET removed = true, event_time = GREATEST(tv_volume.event_time, EXCLUDED.event_time)`,
      [d.volumeId, d.tenantId, d.name, event.time],
    );
  }

  private async removeEnvironment(
    manager: EventContext['manager'],
    environmentId: string,
    tenantId: string,
    networkId: string,
    time: string,
  ) {
    await manager.query(
      `INSERT INTO tv_environment (environment_id, tenant_id, network_id, removed, event_time) VALUES ($1, $2, $3, true, $4)
       ON CONFLICT (environment_id) DO UPDATE SET removed = true, ready = false,
         event_time = GREATEST(tv_environment.event_time, EXCLUDED.event_time)`,
      [environmentId, tenantId, networkId, time],
    );
  }
}
