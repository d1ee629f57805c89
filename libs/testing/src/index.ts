export * from './lib/kafka-mock-cluster';
export * from './lib/postgres';
