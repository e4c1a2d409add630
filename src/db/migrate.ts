import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Connection } from './connect';
import { ltiCore } from './migrations/0001_lti_core';
import { practice } from './migrations/0002_practice';
import { ktJobs } from './migrations/0003_kt_jobs';
import { grades } from './migrations/0004_grades';
import { practiceSession } from './migrations/0005_practice_session';
import { contentAssets } from './migrations/0006_content_assets';

/** Every migration, in order. Names sort in the order they must run. */
function allMigrations(conn: Connection): Record<string, Migration> {
  return {
    '0001_lti_core': ltiCore(conn.dialect),
    '0002_practice': practice(conn.dialect),
    '0003_kt_jobs': ktJobs(conn.dialect),
    '0004_grades': grades(conn.dialect),
    '0005_practice_session': practiceSession(conn.dialect),
    '0006_content_assets': contentAssets(conn.dialect),
  };
}

/** Brings the schema up to date; the same migrations serve SQLite and PostgreSQL. */
export async function migrateToLatest(conn: Connection): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => allMigrations(conn) };
  const migrator = new Migrator({ db: conn.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
