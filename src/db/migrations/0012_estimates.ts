import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * One estimate of what a student knows (src/kt/estimate.ts):
 * - attempt.estimates: the estimates of the activity's tried skills right after the answer, as the
 *   student and teacher saw them (the teacher's chart over time reads these, not a replay);
 * - kt_calibration: item and skill difficulties learned from a tenant's attempts on a bank
 *   (src/kt/commands/calibrateBank.ts); `version` names the states computed with them.
 */
export function estimates(dialect: Dialect) {
  const { time, text } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('attempt').addColumn('estimates', text).execute();
      await db.schema.createTable('kt_calibration')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('params', text, (c) => c.notNull())
        .addColumn('answers', 'integer', (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('kt_calibration_pk', ['tenant_id', 'bank_id'])
        .execute();
    },
  };
}
