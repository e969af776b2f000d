// Multi-row INSERTs within SQLite's bound-parameter limit.
//
// Durable Object SQLite (like D1) caps a statement at 100 bound parameters,
// so a bulk import of tens of thousands of rows becomes statements of
// floor(100 / columns) rows each, all inside one transaction.
import type { Sql, SqlValue } from "./sql";

export const MAX_BOUND_PARAMETERS = 100;

/** Rows per statement for a table of `columns` columns (at least 1). */
export function rowsPerStatement(columns: number, maxParams = MAX_BOUND_PARAMETERS): number {
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns must be a positive integer, got ${columns}`);
  if (columns > maxParams) throw new RangeError(`${columns} columns exceed the ${maxParams}-parameter limit`);
  return Math.floor(maxParams / columns);
}

/** Splits rows into chunks that each fit one statement. */
export function chunkRows<T>(rows: readonly T[], columns: number, maxParams = MAX_BOUND_PARAMETERS): T[][] {
  const size = rowsPerStatement(columns, maxParams);
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

/** `INSERT INTO table (cols) VALUES (?,…),(?,…)` for `rows` rows. */
export function insertStatement(table: string, columns: readonly string[], rows: number, verb = "INSERT"): string {
  const tuple = `(${columns.map(() => "?").join(",")})`;
  return `${verb} INTO ${table} (${columns.join(",")}) VALUES ${Array.from({ length: rows }, () => tuple).join(",")}`;
}

/** Inserts every row (each an array in `columns` order); call inside a transaction for atomicity. */
export function insertRows(sql: Sql, table: string, columns: readonly string[], rows: readonly SqlValue[][], verb = "INSERT"): void {
  for (const chunk of chunkRows(rows, columns.length)) {
    sql.exec(insertStatement(table, columns, chunk.length, verb), chunk.flat());
  }
}
