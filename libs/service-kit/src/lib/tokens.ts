/** Injection tokens for interfaces (classes are injected by class). */
export const MessageBusToken = Symbol('MessageBus');
export const LogToken = Symbol('Log');
