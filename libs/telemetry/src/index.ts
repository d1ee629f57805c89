export * from './lib/logger';
export * from './lib/metrics';
export * from './lib/nest-logger';
export * from './lib/tracing';
export * from './lib/http-tracing';
