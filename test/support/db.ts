import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { skipForMissing } from './pending';

type DialectName = 'sqlite' | 'postgres' | 'mysql';

/** A database for one test suite: a fresh SQLite file, or a fresh PostgreSQL or MariaDB/MySQL database. */
export interface TestDatabase {
  dialect: DialectName;
  url: string;
  drop(): Promise<void>;
}

/**
 * The dialects the suite runs on: SQLite always, PostgreSQL where TEST_DATABASE_URL names a server,
 * MariaDB/MySQL where TEST_MYSQL_URL does (CI sets both). Each returns a factory of empty databases; the
 * factory of a dialect with no server skips the suite that asks for it as pending, with the reason (a
 * failure in CI), so that a run without a server still lists what it did not test.
 */
export function testDialects(): { name: DialectName; create: () => Promise<TestDatabase> }[] {
  const pgUrl = process.env.TEST_DATABASE_URL;
  const mysqlUrl = process.env.TEST_MYSQL_URL;
  return [
    { name: 'sqlite', create: sqliteDatabase },
    {
      name: 'postgres',
      create: async () => pgUrl ? postgresDatabase(pgUrl)
        : skipForMissing({ what: 'PostgreSQL', why: 'TEST_DATABASE_URL unset (e.g. postgres://postgres@127.0.0.1:5432/postgres)' }),
    },
    {
      name: 'mysql',
      create: async () => mysqlUrl ? mysqlDatabase(mysqlUrl)
        : skipForMissing({ what: 'MariaDB', why: 'TEST_MYSQL_URL unset (e.g. mysql://root@127.0.0.1:3306/test)' }),
    },
  ];
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
