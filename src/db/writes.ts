/**
 * Inserts whose SQL differs in MySQL/MariaDB: the rest of Jejak writes through these rather than
 * branching on the dialect at each call.
 */
import { MysqlAdapter, type ExpressionBuilder, type Generated, type Insertable, type Kysely, type UpdateObject } from 'kysely';
import type { Database, Db } from './schema';

type TableWithId = { [T in keyof Database]: Database[T] extends { id: Generated<number> } ? T : never }[keyof Database];
type KeyOf<T extends keyof Database> = readonly (keyof Database[T] & string)[];
/** Values to set, or a function of the existing row's columns (`eb('table.column', '+', n)`). */
type Update<T extends keyof Database> = UpdateObject<Database, T> | ((eb: ExpressionBuilder<Database, T>) => UpdateObject<Database, T>);

/** The signatures are typed; Kysely cannot type a statement on a table that is a type parameter. */
const untyped = (db: Db) => db as unknown as Kysely<any>;

/** True when `db` (or a transaction of it) is on MySQL/MariaDB: Kysely tells its dialect only by its adapter. */
function isMysql(db: Db): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/** MySQL's error number for a duplicate primary or unique key. */
const ER_DUP_ENTRY = 1062;

/** Inserts one row and returns the id the database gave it. */
export async function insertReturningId<T extends TableWithId>(db: Db, table: T, values: Insertable<Database[T]>): Promise<number> {
  const insert = untyped(db).insertInto(table as string).values(values);
  if (isMysql(db)) {
    // MySQL has no RETURNING; the new id is the statement's insertId.
    const { insertId } = await insert.executeTakeFirstOrThrow();
    return Number(insertId);
  }
  const row = await insert.returning('id').executeTakeFirstOrThrow();
  return row.id as number;
}

/**
 * Inserts a row unless one with the same `key` (primary key or a unique constraint) exists; true when
 * this call inserted it.
 */
export async function insertIfAbsent<T extends keyof Database>(db: Db, table: T, values: Insertable<Database[T]>, key: KeyOf<T>): Promise<boolean> {
  const insert = untyped(db).insertInto(table as string).values(values);
  if (isMysql(db)) {
    // MySQL has no ON CONFLICT DO NOTHING, and INSERT IGNORE would also swallow other errors. A failed
    // statement leaves a MySQL transaction usable, so the duplicate's error is the answer.
    try {
      await insert.execute();
      return true;
    } catch (e) {
      if ((e as { errno?: number }).errno === ER_DUP_ENTRY) return false;
      throw e;
    }
  }
  const result = await insert.onConflict((oc) => oc.columns(key).doNothing()).executeTakeFirstOrThrow();
  return Number(result.numInsertedOrUpdatedRows) === 1;
}

/** Inserts a row or, when one with the same `key` (primary key or a unique constraint) exists, sets `update` on it. */
export async function upsert<T extends keyof Database>(db: Db, table: T, values: Insertable<Database[T]>, key: KeyOf<T>, update: Update<T>): Promise<void> {
  const insert = untyped(db).insertInto(table as string).values(values);
  // MySQL has no ON CONFLICT: ON DUPLICATE KEY UPDATE, which fires on any unique key (each upserted table has one).
  const write = isMysql(db) ? insert.onDuplicateKeyUpdate(update) : insert.onConflict((oc) => oc.columns(key).doUpdateSet(update));
  await write.execute();
}
