/**
 * The environment id each unit runs in, which stack events name (StackDeployProgress, StackDeployed,
 * StackRevisionAccepted). The translator may set it on the unit; otherwise it is found in the tenant
 * view (R-OR-3) by cluster and namespace, and as a last resort the placement `<cluster>/<namespace>`
 * stands in (the view may not have caught up yet).
 */
import type { EntityManager } from 'typeorm';
import type { DeployUnit } from './deploy-plan';

export async function environmentIds(
  manager: EntityManager,
  tenantId: string,
  units: readonly DeployUnit[],
): Promise<Map<string, string>> {
  const rows = await manager.query<Array<{ environment_id: string; cluster_id: string; namespace: string }>>(
    `SELECT environment_id, cluster_id, namespace FROM tv_environment
     WHERE tenant_id = $1 AND NOT removed AND cluster_id IS NOT NULL AND namespace IS NOT NULL`,
    [tenantId],
  );
  const byPlacement = new Map(rows.map((r) => [`${r.cluster_id}/${r.namespace}`, r.environment_id]));
  return new Map(
    units.map((unit) => {
      const placement = `${unit.clusterId}/${unit.namespace}`;
      return [unit.name, unit.environmentId ?? byPlacement.get(placement) ?? placement];
    }),
  );
}
