export * from './bus-transport';
export * from './on-event';
