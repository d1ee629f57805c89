/**
 * A tenant's resources as the orchestrator knows them (R-OR-3): what a template may reference. Built
 * by TenantViewConsumer; read when a template is checked and translated.
 */
import type { ServiceDatabase } from '@stratum/persistence';
import type { StratumEnvironment, StratumTenantView } from '@stratum/tosca';

/**
 * The view has the shape the translator takes (libs/tosca StratumTenantView), so a snapshot is handed
 * to it as it is; the orchestrator always knows each network's subnet.
 */
export type ViewEnvironment = StratumEnvironment & { cidr: string };
export type ViewNfsServer = StratumTenantView['nfsServers'][number];
export type ViewVolume = StratumTenantView['volumes'][number];

export interface TenantViewSnapshot extends StratumTenantView {
  environments: ViewEnvironment[];
}

export class TenantView {
  constructor(private readonly database: ServiceDatabase) {}

  /** Ready environments whose network is known, the NFS servers and the volumes the tenant owns now. */
  async of(tenantId: string): Promise<TenantViewSnapshot> {
    const query = this.database.dataSource.query.bind(this.database.dataSource);
    const environments = await query<
      Array<{
        environment_id: string;
        network_id: string;
        network_name: string;
        cluster_id: string;
        namespace: string;
        security_domain: string;
        isolation_domain: string;
        network_attachment: string;
        dns_suffix: string;
        cidr: string;
        gateway: string;
      }>
    >(
      `SELECT e.*, n.name AS network_name, n.cidr, n.gateway FROM tv_environment e JOIN tv_network n ON n.network_id = e.network_id
       WHERE e.tenant_id = $1 AND e.ready AND NOT e.removed AND NOT n.removed ORDER BY n.name`,
      [tenantId],
    );
    const nfsServers = await query<
      Array<{ nfs_server_id: string; tier: string; storage_class_name: string }>
    >('SELECT * FROM tv_nfs_server WHERE tenant_id = $1 AND NOT removed ORDER BY nfs_server_id', [tenantId]);
    const volumes = await query<
      Array<{
        volume_id: string;
        name: string;
        nfs_server_id: string;
        size_bytes: string;
        export_sub_path: string;
        claim_name: string;
      }>
    >('SELECT * FROM tv_volume WHERE tenant_id = $1 AND NOT removed ORDER BY name', [tenantId]);
    return {
      tenantId,
      environments: environments.map((e) => ({
        environmentId: e.environment_id,
        networkId: e.network_id,
        networkName: e.network_name,
        clusterId: e.cluster_id,
        namespace: e.namespace,
        securityDomain: e.security_domain,
        isolationDomain: e.isolation_domain,
        networkAttachment: e.network_attachment,
        dnsSuffix: e.dns_suffix,
        cidr: e.cidr,
        ...(e.gateway ? { gateway: e.gateway } : {}),
      })),
      nfsServers: nfsServers.map((s) => ({
        nfsServerId: s.nfs_server_id,
        tier: s.tier,
        storageClassName: s.storage_class_name,
      })),
      volumes: volumes.map((v) => ({
        volumeId: v.volume_id,
        name: v.name,
        nfsServerId: v.nfs_server_id,
        sizeBytes: Number(v.size_bytes),
        exportSubPath: v.export_sub_path,
        claimName: v.claim_name,
      })),
    };
  }
}
