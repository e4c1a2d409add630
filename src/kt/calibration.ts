/**
 * Calibration as background work: every hour (src/app.ts, through the job queue) the banks whose
 * tenant has given enough new answers since their last calibration are calibrated again
 * (commands/calibrateBank.ts), so item difficulties follow the tool's own attempts as they arrive.
 */
import type { Db } from '../db/schema';
import type { Logger } from '../log';
import { calibrateBank, type CalibratedBank } from './commands/calibrateBank';

export const CALIBRATION_JOB = 'kt_calibrate';

/** New non-preview answers on a bank (per tenant) before it is calibrated again. */
export const CALIBRATE_AFTER_ANSWERS = 50;

/** Calibrates every (tenant, bank) with CALIBRATE_AFTER_ANSWERS new answers since its last calibration. */
export async function calibrateDueBanks(db: Db, log: Logger, now = Date.now()): Promise<(CalibratedBank & { tenantId: number; bankId: number })[]> {
  const [counts, done] = await Promise.all([
    db.selectFrom('attempt').innerJoin('activity', 'activity.id', 'attempt.activity_id')
      .select((eb) => ['attempt.tenant_id', 'activity.bank_id', eb.fn.countAll().as('n')])
      .where('attempt.preview', '=', 0).groupBy(['attempt.tenant_id', 'activity.bank_id']).execute(),
    db.selectFrom('kt_calibration').select(['tenant_id', 'bank_id', 'answers']).execute(),
  ]);
  const calibratedAt = new Map(done.map((r) => [`${r.tenant_id}:${r.bank_id}`, r.answers]));
  const out = [];
  for (const c of counts) {
    if (Number(c.n) - (calibratedAt.get(`${c.tenant_id}:${c.bank_id}`) ?? 0) < CALIBRATE_AFTER_ANSWERS) continue;
    const result = await calibrateBank({ db, tenantId: c.tenant_id, bankId: c.bank_id, actor: 'system', now });
    log.info('bank calibrated', { tenant: c.tenant_id, bank: c.bank_id, ...result });
    out.push({ ...result, tenantId: c.tenant_id, bankId: c.bank_id });
  }
  return out;
}
