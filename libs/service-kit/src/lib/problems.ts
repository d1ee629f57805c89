/**
 * Refusing bad input the one way every service does: a 400 that names each field at fault, and says
 * that nothing was changed (Standards: bad input gets a clear error and loses nothing).
 */
import type { z } from 'zod';
import { DomainException, ErrorCode } from './errors';

/** One thing wrong with a request, named by the field it is about (dotted path). */
export interface Problem {
  field: string;
  message: string;
}

/** 400 naming every bad field; the request changed nothing. */
export function validationFailed(problems: Problem[]): DomainException {
  return new DomainException(
    ErrorCode.ValidationFailed,
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    'Correct the named fields and send the request again; nothing was changed.',
    { problems },
  );
}

/** The zod issues as problems; `prefix` names what was parsed when it is not the body (e.g. a path parameter). */
export function problemsOf(error: z.ZodError, prefix?: string): Problem[] {
  return error.issues.map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
    return { field: path.length ? path.join('.') : '(body)', message: issue.message };
  });
}

/** Parses with the schema or throws the 400 that names each bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix?: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(problemsOf(result.error, prefix));
  return result.data;
}

/** 409: the request conflicts with the current state; `hint` says what to do. */
export function conflict(field: string, message: string, hint: string): DomainException {
  return new DomainException(ErrorCode.Conflict, `${field}: ${message}`, hint, {
    problems: [{ field, message }],
  });
}
