/**
 * Every event contract, one namespace per event folder, so handlers read `NetworkAssigned.Value`,
 * `NetworkAssigned.Topic.name`. A new folder must be added here; the catalog spec checks it.
 */

// resource (resource-manager)
export * as NetworkRecorded from './network-recorded';
export * as NetworkDeleted from './network-deleted';
export * as NetworkAssigned from './network-assigned';
export * as NetworkUnassigned from './network-unassigned';
export * as EnvironmentReady from './environment-ready';
export * as EnvironmentRemoved from './environment-removed';
export * as EnvironmentsLinked from './environments-linked';
export * as NfsServerRecorded from './nfs-server-recorded';
export * as NfsServerAssigned from './nfs-server-assigned';
export * as NfsServerUnassigned from './nfs-server-unassigned';
export * as VolumeReady from './volume-ready';
export * as VolumeDeleted from './volume-deleted';
export * as OperationProgress from './operation-progress';

// orchestrator
export * as StackRevisionAccepted from './stack-revision-accepted';
export * as StackDeployProgress from './stack-deploy-progress';
export * as StackDeployed from './stack-deployed';
export * as StackDeployFailed from './stack-deploy-failed';
export * as StackRolledBack from './stack-rolled-back';
export * as StackDeleted from './stack-deleted';
export * as AutoscalingPoliciesPublished from './autoscaling-policies-published';
export * as AutoscalingPoliciesWithdrawn from './autoscaling-policies-withdrawn';

// autoscaler
export * as AlertRulesUpserted from './alert-rules-upserted';
export * as AlertRulesRemoved from './alert-rules-removed';
export * as ScalingAction from './scaling-action';

// monitor
export * as AlertFired from './alert-fired';

// tenant (gateway: Keystone members, mirrored into Kubernetes RBAC by the resource-manager)
export * as TenantMembersChanged from './tenant-members-changed';

// audit (every service)
export * as EventRecorded from './event-recorded';

// logs (log-shipper); the folder is `log-record` so the namespace does not shadow TypeScript's `Record`
export * as LogRecord from './log-record';

// image (image-sync)
export * as ImageStateChanged from './image-state-changed';
export * as SyncRuleChanged from './sync-rule-changed';
export * as SyncCompleted from './sync-completed';

// bench (tests and benchmark only)
export * as BenchProbe from './bench-probe';
