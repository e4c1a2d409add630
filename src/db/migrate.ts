import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Connection } from './connect';
import { ltiCore } from './migrations/0001_lti_core';
import { practice } from './migrations/0002_practice';
import { ktJobs } from './migrations/0003_kt_jobs';
import { grades } from './migrations/0004_grades';
import { practiceSession } from './migrations/0005_practice_session';
import { contentAssets } from './migrations/0006_content_assets';
import { privacy } from './migrations/0007_privacy';
import { security } from './migrations/0008_security';
import { answerPathIndexes } from './migrations/0009_answer_path_indexes';
import { signInLimits } from './migrations/0010_sign_in_limits';
import { scoreResends } from './migrations/0011_score_resends';
import { estimates } from './migrations/0012_estimates';
import { itemDifficulty } from './migrations/0013_item_difficulty';

/** Every migration, in order. Names sort in the order they must run. */
function allMigrations(conn: Connection): Record<string, Migration> {
  return {
    '0001_lti_core': ltiCore(conn.dialect),
    '0002_practice': practice(conn.dialect),
    '0003_kt_jobs': ktJobs(conn.dialect),
    '0004_grades': grades(conn.dialect),
    '0005_practice_session': practiceSession(conn.dialect),
    '0006_content_assets': contentAssets(conn.dialect),
    '0007_privacy': privacy(conn.dialect),
    '0008_security': security(conn.dialect),
    '0009_answer_path_indexes': answerPathIndexes(),
    '0010_sign_in_limits': signInLimits(conn.dialect),
    '0011_score_resends': scoreResends(),
    '0012_estimates': estimates(conn.dialect),
    '0013_item_difficulty': itemDifficulty(conn.dialect),
  };
}

function migratorOf(conn: Connection): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => allMigrations(conn) };
  return new Migrator({ db: conn.db, provider });
}

/** Brings the schema up to date; the same migrations serve SQLite, PostgreSQL and MySQL/MariaDB. */
export async function migrateToLatest(conn: Connection): Promise<string[]> {
  const { error, results } = await migratorOf(conn).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrations this code has that the database has not applied (for /readyz: new code must not serve an old schema). */
export async function pendingMigrations(conn: Connection): Promise<string[]> {
  const infos = await migratorOf(conn).getMigrations();
  return infos.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
