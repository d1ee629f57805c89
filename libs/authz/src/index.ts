export * from './lib/identity';
export * from './lib/permissions';
export * from './lib/kubernetes-rbac';
