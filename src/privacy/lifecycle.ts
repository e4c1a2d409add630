import type { Config } from '../config';
import type { Db } from '../db/schema';
import type { Logger } from '../log';
import type { JobQueue } from '../jobs/queue';
import { audit } from '../db/audit';
import { applyRetention } from './commands/applyRetention';

/** The settings that decide what is kept and who may see it; a change is audited. */
export function privacySettings(config: Pick<Config, 'storePersonalNames' | 'retentionDays' | 'adminPassword'>) {
  return { storePersonalNames: config.storePersonalNames, retentionDays: config.retentionDays, adminEnabled: !!config.adminPassword };
}

/**
 * Settings live in configuration, not in the database: IT changes them where it changes everything
 * else, and the audit log still shows when they changed. At start the current settings are compared
 * with the last recorded ones and a 'config.changed' row is appended when they differ.
 */
export async function auditConfigChanges(db: Db, config: Pick<Config, 'storePersonalNames' | 'retentionDays' | 'adminPassword'>, now = Date.now()): Promise<boolean> {
  const settings = privacySettings(config);
  const last = await db.selectFrom('audit_event').select('details').where('action', '=', 'config.changed').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const before = last ? (JSON.parse(last.details) as { settings?: unknown }).settings : undefined;
  if (JSON.stringify(before) === JSON.stringify(settings)) return false;
  await audit(db, { tenantId: null, actor: 'system', action: 'config.changed', subject: null, at: now, details: { settings, previous: before ?? null } });
  return true;
}

/** The queue's name for retention: once a day, in one process of all. */
export const RETENTION_JOB = 'privacy_retention';

/**
 * Declares retention as a daily job of the background queue (src/jobs/), so that with several
 * processes it runs once; the queue stops with the others on close. Nothing is scheduled when
 * retention is off (0 days).
 */
export async function scheduleRetention(jobs: JobQueue, db: Db, log: Logger, retentionDays: number): Promise<void> {
  await jobs.define(RETENTION_JOB, { leaseSeconds: 3600, retryLimit: 3, retryDelaySeconds: 600 }, async () => {
    const r = await applyRetention({ db, retentionDays, actor: 'system' });
    log.info('retention applied', { ...r });
  });
  if (retentionDays > 0) await jobs.every(RETENTION_JOB, 24 * 60);
}
