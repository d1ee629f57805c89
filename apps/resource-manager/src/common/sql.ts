/**
 * The rows of an `UPDATE … RETURNING` / `DELETE … RETURNING`. TypeORM's PostgreSQL driver answers
 * those with `[rows, affectedCount]` (and INSERT/SELECT with the rows), so every such query goes
 * through here.
 */
export async function returning<T>(
  runner: { query(sql: string, parameters?: unknown[]): Promise<unknown> },
  sql: string,
  parameters: unknown[] = [],
): Promise<T[]> {
  const result = await runner.query(sql, parameters);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
