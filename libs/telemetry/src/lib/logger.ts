import pino, { type Logger as PinoLogger, type DestinationStream } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Structured logger used everywhere: `log.info('message', { fields })`. JSON lines on stdout. */
export interface Log {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  fatal(message: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Log;
}

class PinoLog implements Log {
  constructor(private readonly logger: PinoLogger) {}
  trace(message: string, fields?: Record<string, unknown>) {
    this.logger.trace(fields ?? {}, message);
  }
  debug(message: string, fields?: Record<string, unknown>) {
    this.logger.debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>) {
    this.logger.info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.logger.warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.logger.error(fields ?? {}, message);
  }
  fatal(message: string, fields?: Record<string, unknown>) {
    this.logger.fatal(fields ?? {}, message);
  }
  child(bindings: Record<string, unknown>): Log {
    return new PinoLog(this.logger.child(bindings));
  }
}

export function createLog(
  options: { level?: LogLevel; bindings?: Record<string, unknown>; destination?: DestinationStream } = {},
): Log {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
  return new PinoLog(logger);
}
