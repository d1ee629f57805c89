export * from './lib/identities';
export * from './lib/kafka-mock-cluster';
export * from './lib/kube-bench';
export * from './lib/postgres';
export * from './lib/process';
export * from './lib/keystone-bench';
export * from './lib/registry-bench';
