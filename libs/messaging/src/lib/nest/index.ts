export * from './bus-transport';
