import path from 'node:path';
import fs from 'node:fs';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database, Db } from './schema';

export type Dialect = 'sqlite' | 'postgres';

export interface Connection {
  db: Db;
  dialect: Dialect;
  /** Where the data is, without credentials, for logs and the admin. */
  where: string;
  close(): Promise<void>;
}

/** True when the URL names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the database named by `url`: `postgres://…` for PostgreSQL, anything else is a SQLite file
 * path (relative to `root`), created with its folder on first use.
 */
export async function connect(url: string, root: string): Promise<Connection> {
  if (isPostgresUrl(url)) {
    const pg = await import('pg');
    // int8 (COUNT, bigint epoch-ms columns) would otherwise arrive as strings.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000 });
    // An idle client losing its server (restart) must not crash the process; the pool reconnects.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const where = url.replace(/\/\/[^@/]*@/, '//');
    return { db, dialect: 'postgres', where, close: () => db.destroy() };
  }
  const file = url === ':memory:' ? url : path.resolve(root, url);
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const { default: SQLite } = await import('better-sqlite3');
  const sqlite = new SQLite(file);
  // WAL: readers do not block the writer; NORMAL sync is durable across process crashes in WAL mode.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', where: file, close: () => db.destroy() };
}
