import type { LoggerService } from '@nestjs/common';
import type { Log } from './logger';

/** Nest's logger interface over the structured log, so framework messages are JSON lines too. */
export class NestLogAdapter implements LoggerService {
  constructor(private readonly target: Log) {}

  log(message: unknown, context?: string) {
    this.target.info(String(message), context ? { context } : undefined);
  }
  error(message: unknown, stackOrContext?: string, context?: string) {
    this.target.error(String(message), {
      context: context ?? stackOrContext,
      ...(context ? { stack: stackOrContext } : {}),
    });
  }
  warn(message: unknown, context?: string) {
    this.target.warn(String(message), context ? { context } : undefined);
  }
  debug(message: unknown, context?: string) {
    this.target.debug(String(message), context ? { context } : undefined);
  }
  verbose(message: unknown, context?: string) {
    this.target.trace(String(message), context ? { context } : undefined);
  }
}
