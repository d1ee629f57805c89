export * from './lib/backoff';
export * from './lib/percentiles';
export * from './lib/wait-for';
