import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { type Observable, throwError } from 'rxjs';

/** Stable error codes; each maps to one HTTP status in one place. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  Forbidden = 'FORBIDDEN',
  Unauthenticated = 'UNAUTHENTICATED',
  DependencyUnavailable = 'DEPENDENCY_UNAVAILABLE',
  Internal = 'INTERNAL',
}

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: HttpStatus.BAD_REQUEST,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.Unauthenticated]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.DependencyUnavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.Internal]: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** A business error: a code, a message for the caller and, where possible, what to do next. */
export class DomainException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainException';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; hint?: string; details?: unknown };
}

/** Every HTTP error in one JSON shape (bus errors pass through unchanged): `{ error: { code, message, hint?, details? } }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  /** `log` receives every unexpected error (a 500), with its stack, so the log has what the body hides. */
  constructor(private readonly log?: { error(message: string, fields?: Record<string, unknown>): void }) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // On the bus the original error must reach the consumer, which retries and finally dead-letters
    // it with its message (Nest's default RPC filter would replace it with "Internal server error").
    if (host.getType() === 'rpc') return throwError(() => exception);
    const response = host.switchToHttp().getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: ErrorBody = {
      error: { code: ErrorCode.Internal, message: 'Internal error; the service log has the details.' },
    };
    if (exception instanceof DomainException) {
      status = STATUS[exception.code];
      body = {
        error: {
          code: exception.code,
          message: exception.message,
          hint: exception.hint,
          details: exception.details,
        },
      };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const raw = exception.getResponse() as string | { message?: string | string[] };
      const message =
        typeof raw === 'string'
          ? raw
          : Array.isArray(raw.message)
            ? raw.message.join('; ')
            : (raw.message ?? exception.message);
      const code =
        status === 400
          ? ErrorCode.ValidationFailed
          : status === 404
            ? ErrorCode.NotFound
            : status === 403
              ? ErrorCode.Forbidden
              : status === 401
                ? ErrorCode.Unauthenticated
                : status === 409
                  ? ErrorCode.Conflict
                  : status === 503
                    ? ErrorCode.DependencyUnavailable
                    : ErrorCode.Internal;
      body = { error: { code, message } };
    } else {
      const request = host.switchToHttp().getRequest<{ method?: string; url?: string }>();
      this.log?.error('request failed with an unexpected error', {
        method: request.method,
        url: request.url,
        error: (exception as Error)?.message,
        stack: (exception as Error)?.stack,
      });
    }
    response.status(status).json(body);
  }
}
