export * from './lib/envelope';
export * from './lib/topic';
export * from './lib/topic-defaults';
export * from './lib/services';
export * from './lib/primitives';
export * from './lib/dead-letter';
export * from './lib/catalog';
export * from './lib/events';
