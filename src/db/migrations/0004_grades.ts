import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * Grade passback and teacher controls: the score outbox (one row per student and activity, coalesced
 * to the latest score), the course roster cache shared by processes, and the teacher's per-student
 * overrides of the practice policy.
 */
export function grades(dialect: Dialect) {
  const { autoId, time, text, key } = columnTypes(dialect);

  return {
    async up(db: Kysely<any>): Promise<void> {
      await autoId(db.schema.createTable('score_outbox'))
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', text, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('score_given', 'double precision', (c) => c.notNull())
        .addColumn('score_maximum', 'double precision', (c) => c.notNull())
        .addColumn('activity_progress', text, (c) => c.notNull())
        .addColumn('grading_progress', text, (c) => c.notNull())
        .addColumn('score_timestamp', time, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', key, (c) => c.notNull())
        .addColumn('tries', 'integer', (c) => c.notNull())
        .addColumn('next_try_at', time, (c) => c.notNull())
        .addColumn('lease_until', time)
        .addColumn('problem', text)
        .addColumn('problem_detail', text)
        .addColumn('line_item_url', text)
        .addColumn('line_items_url', text)
        .addColumn('ags_scopes', text, (c) => c.notNull())
        .addColumn('delivered_version', 'integer')
        .addColumn('delivered_at', time)
        .addColumn('updated_at', time, (c) => c.notNull())
        .addUniqueConstraint('score_outbox_student', ['tenant_id', 'activity_id', 'user_sub'])
        .execute();
      await db.schema.createIndex('score_outbox_due').on('score_outbox').columns(['status', 'next_try_at']).execute();

      await db.schema.createTable('roster_cache')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('members', text, (c) => c.notNull())
        .addColumn('fetched_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('roster_cache_pk', ['tenant_id', 'context_id'])
        .execute();

      await db.schema.createTable('student_override')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('unlocked_skills', text, (c) => c.notNull())
        .addColumn('skipped_skills', text, (c) => c.notNull())
        .addColumn('fixed_order', 'integer', (c) => c.notNull())
        .addColumn('updated_by', text, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('student_override_pk', ['tenant_id', 'activity_id', 'user_sub'])
        .execute();
    },
  };
}
