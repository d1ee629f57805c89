export * from './lib/config/service-config';
export * from './lib/errors';
export * from './lib/health/health-registry';
export * from './lib/runtime';
export * from './lib/service-core.module';
export * from './lib/service-definition';
export * from './lib/start-service';
export * from './lib/tokens';
