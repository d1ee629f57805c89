export * from './lib/embedded/embedded-postgres';
export * from './lib/embedded/pglite-pool';
export * from './lib/naming-strategy';
export * from './lib/service-database';
