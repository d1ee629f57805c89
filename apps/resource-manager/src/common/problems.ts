/** The resource-manager's refusals, as the domain exceptions the HTTP filter maps (400/404/409). */
import { conflict, DomainException, ErrorCode } from '@stratum/service-kit';

export { conflict, parseOrThrow, type Problem, problemsOf, validationFailed } from '@stratum/service-kit';

export function notFound(what: string, id: string, field: string, hint: string): DomainException {
  return new DomainException(ErrorCode.NotFound, `${field}: no ${what} with id ${id}`, hint, {
    problems: [{ field, message: `no ${what} with id ${id}` }],
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
