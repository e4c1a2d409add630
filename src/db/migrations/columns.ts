import { sql, type CreateTableBuilder, type Expression } from 'kysely';
import type { Dialect } from '../connect';

type DataType = 'text' | 'blob' | 'bytea' | Expression<unknown>;

/** The column types every migration uses, in each dialect's spelling. */
export function columnTypes(dialect: Dialect) {
  const mysql = dialect === 'mysql';
  // MySQL's own default character set may be latin1, and its default collations ignore case: text is
  // utf8mb4 (Arabic, Indonesian) compared byte for byte, as in SQLite and PostgreSQL (LTI ids and
  // nonces are case-sensitive).
  const mysqlText = (type: string) => sql.raw(`${type} character set utf8mb4 collate utf8mb4_bin`);
  const text: DataType = mysql ? mysqlText('longtext') : 'text';
  const key: DataType = mysql ? mysqlText('varchar(255)') : 'text';
  const blob: DataType = dialect === 'postgres' ? 'bytea' : mysql ? sql`longblob` : 'blob';
  return {
    autoId: <T extends string>(t: CreateTableBuilder<T, never>) =>
      dialect === 'postgres'
        ? t.addColumn('id', 'serial', (c) => c.primaryKey())
        : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()),
    /** Epoch milliseconds. */
    time: 'bigint' as const,
    /** Text and JSON of any length (MySQL's TEXT stops at 64 KB). */
    text,
    /**
     * Text in a primary key, unique constraint or index: MySQL keys TEXT only by a prefix, so there a
     * varchar. 255 characters hold any LTI id (the spec's limit), and a key of three of them stays
     * within InnoDB's 3072 bytes.
     */
    key,
    /** Bytes of any length (MySQL's BLOB stops at 64 KB). */
    blob,
  };
}
