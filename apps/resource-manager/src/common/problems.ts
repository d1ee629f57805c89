import { DomainException, ErrorCode } from '@stratum/service-kit';
import type { z } from 'zod';

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

export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
}

/** Parses with the schema or throws the 400 that names each bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(problemsOf(result.error));
  return result.data;
}

export function notFound(what: string, id: string, field: string, hint: string): DomainException {
  return new DomainException(ErrorCode.NotFound, `${field}: no ${what} with id ${id}`, hint, {
    problems: [{ field, message: `no ${what} with id ${id}` }],
  });
}

export function conflict(field: string, message: string, hint: string): DomainException {
  return new DomainException(ErrorCode.Conflict, `${field}: ${message}`, hint, {
    problems: [{ field, message }],
  });
}

/** Runs `write` under a savepoint and turns a unique violation (23505) into a 409 on `field`. */
export async function uniqueOrConflict(
  manager: { query(sql: string): Promise<unknown> },
  write: () => Promise<unknown>,
  field: string,
  message: string,
  hint: string,
): Promise<void> {
  await manager.query('SAVEPOINT unique_write');
  try {
    await write();
    await manager.query('RELEASE SAVEPOINT unique_write');
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await manager.query('ROLLBACK TO SAVEPOINT unique_write');
    throw conflict(field, message, hint);
  }
}
