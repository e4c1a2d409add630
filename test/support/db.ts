import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';

/** A database for one test suite: a fresh SQLite file, or a fresh PostgreSQL database. */
export interface TestDatabase {
  dialect: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

/**
 * The dialects the suite runs on: SQLite always; PostgreSQL too when TEST_DATABASE_URL names a server
 * (CI sets it). Each returns a factory of empty databases.
 */
export function testDialects(): { name: 'sqlite' | 'postgres'; create: () => Promise<TestDatabase> }[] {
  const out: { name: 'sqlite' | 'postgres'; create: () => Promise<TestDatabase> }[] = [{ name: 'sqlite', create: sqliteDatabase }];
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) out.push({ name: 'postgres', create: () => postgresDatabase(pgUrl) });
  return out;
}

async function sqliteDatabase(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-test-'));
  return {
    dialect: 'sqlite',
    url: path.join(dir, 'jejak.db'),
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresDatabase(serverUrl: string): Promise<TestDatabase> {
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
