import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';

type DialectName = 'sqlite' | 'postgres' | 'mysql';

/** A database for one test suite: a fresh SQLite file, or a fresh PostgreSQL or MariaDB/MySQL database. */
export interface TestDatabase {
  dialect: DialectName;
  url: string;
  drop(): Promise<void>;
}

/**
 * The dialects the suite runs on: SQLite always; PostgreSQL too when TEST_DATABASE_URL names a server,
 * MariaDB/MySQL when TEST_MYSQL_URL does (CI sets both). Each returns a factory of empty databases.
 */
export function testDialects(): { name: DialectName; create: () => Promise<TestDatabase> }[] {
  const out: { name: DialectName; create: () => Promise<TestDatabase> }[] = [{ name: 'sqlite', create: sqliteDatabase }];
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) out.push({ name: 'postgres', create: () => postgresDatabase(pgUrl) });
  const mysqlUrl = process.env.TEST_MYSQL_URL;
  if (mysqlUrl) out.push({ name: 'mysql', create: () => mysqlDatabase(mysqlUrl) });
  return out;
}

export async function sqliteDatabase(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-test-'));
  return {
    dialect: 'sqlite',
    url: path.join(dir, 'jejak.db'),
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const { Client } = await import('pg');
  const name = `jejak_test_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'postgres',
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function mysqlDatabase(serverUrl: string): Promise<TestDatabase> {
  const { createConnection } = await import('mysql2/promise');
  const name = `jejak_test_${crypto.randomBytes(5).toString('hex')}`;
  const admin = async (statement: string) => {
    const c = await createConnection(serverUrl);
    await c.query(statement);
    await c.end();
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'mysql',
    url: url.toString(),
    // No WITH (FORCE) in MySQL, nor a need for it: idle connections of other sessions do not block a drop.
    drop: () => admin(`DROP DATABASE IF EXISTS ${name}`),
  };
}
