export * from './lib/identity';
export * from './lib/permissions';
export * from './lib/kubernetes-rbac';
export * from './lib/keystone-roles';
export * from './lib/registry-scopes';
export * from './lib/registry-key-id';
