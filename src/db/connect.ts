import path from 'node:path';
import fs from 'node:fs';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Db } from './schema';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export interface Connection {
  db: Db;
  dialect: Dialect;
  /** Where the data is, without credentials, for logs and the admin. */
  where: string;
  /** The pool's connections (PostgreSQL), for /metrics. */
  poolUsage?: () => { total: number; idle: number; waiting: number };
  /** SQL statements run through `db` so far (for /metrics, and the test that keeps an answer's statements few). */
  statements: () => number;
  close(): Promise<void>;
}

/** True when the URL names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** True when the URL names a MySQL or MariaDB server. */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

/**
 * Opens the database named by `url`: `postgres://…` for PostgreSQL, `mysql://…` or `mariadb://…` for
 * MySQL/MariaDB, anything else is a SQLite file path (relative to `root`), created with its folder on
 * first use.
 */
export async function connect(url: string, root: string): Promise<Connection> {
  let statements = 0;
  const counted = { log: () => void statements++, statements: () => statements };
  if (isMysqlUrl(url)) {
    const { createPool } = await import('mysql2');
    const pool = createPool({
      uri: url.replace(/^mariadb:/i, 'mysql:'),
      connectionLimit: 10,
      connectTimeout: 10_000,
      // utf8mb4: items are Arabic and Indonesian; binary collation keeps literals as exact as the columns.
      charset: 'UTF8MB4_BIN',
      // SUM/AVG are DECIMAL in MySQL and would otherwise arrive as strings (BIGINT arrives as a number).
      decimalNumbers: true,
    });
    const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }), log: counted.log });
    return { db, dialect: 'mysql', where: withoutCredentials(url), statements: counted.statements, close: () => db.destroy() };
  }
  if (isPostgresUrl(url)) {
    const pg = await import('pg');
    // int8 (COUNT, bigint epoch-ms columns) would otherwise arrive as strings.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000 });
    // An idle client losing its server (restart) must not crash the process; the pool reconnects.
    pool.on('error', () => undefined);
    // Nor a client in use: its query fails (an error page), and the pool drops it when it comes back.
    // pg-pool listens only while a client is idle, and an unheard 'error' event is an uncaught exception.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: counted.log });
    const poolUsage = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    return { db, dialect: 'postgres', where: withoutCredentials(url), poolUsage, statements: counted.statements, close: () => db.destroy() };
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), log: counted.log });
  return { db, dialect: 'sqlite', where: file, statements: counted.statements, close: () => db.destroy() };
}

/**
 * Kysely prepares every query anew, and compiling the SQL was a tenth of the tool's CPU per answer
 * (bench/load.ts): the statements of the last STATEMENTS distinct queries are kept and reused.
 * Also where Kysely's statements meet SQLite, so the place for the ROLLBACK below.
 * Safe because Kysely runs one query at a time on the connection and nothing here streams rows
 * (a statement being iterated could not run a second time meanwhile).
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const STATEMENTS = 500;
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => void sqlite.close(),
    prepare: (query: string) => {
      // SQLite itself ends a transaction a full disk or an I/O error broke; Kysely's ROLLBACK would then
      // fail ("no transaction is active") and hide that error from the error page and the log.
      if (query === 'rollback' && !sqlite.inTransaction) query = 'select 1';
      let statement = cache.get(query);
      if (statement) cache.delete(query);
      else statement = sqlite.prepare(query);
      cache.set(query, statement);
      if (cache.size > STATEMENTS) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}

function withoutCredentials(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/** PostgreSQL codes of a server going away or refusing work: shutdown, connection failure, too many connections. */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);
/** SQLite codes of a database that cannot be written or read now: disk full, read-only, locked, I/O errors. */
const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|READONLY|BUSY|LOCKED|IOERR|CANTOPEN)/;

/**
 * True for an error that says the database is unavailable (server restarting, disk full, read-only),
 * not that the request or the code is wrong: the user is told to try again shortly.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (PG_UNAVAILABLE.has(code) || SQLITE_UNAVAILABLE.test(code))) return true;
  return typeof message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect)/.test(message);
}
