import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * A student's practice session: each item shown (its token makes an answer idempotent and lets a
 * relaunch resume on the same item), and each student's progress through an activity.
 */
export function practiceSession(dialect: Dialect) {
  const { time, text, key } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('practice_presentation')
        .addColumn('token', key, (c) => c.primaryKey())
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', text, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('preview', 'integer', (c) => c.notNull())
        .addColumn('item_id', 'integer', (c) => c.notNull().references('item.id'))
        .addColumn('skill_id', 'integer', (c) => c.notNull())
        .addColumn('reason', text, (c) => c.notNull())
        .addColumn('hints_used', 'integer', (c) => c.notNull())
        .addColumn('solution_shown', 'integer', (c) => c.notNull())
        .addColumn('presented_at', time, (c) => c.notNull())
        .addColumn('answered_at', time)
        .addColumn('attempt_id', 'integer', (c) => c.references('attempt.id').onDelete('set null'))
        .execute();
      await db.schema.createIndex('practice_presentation_student')
        .on('practice_presentation').columns(['activity_id', 'user_sub', 'preview', 'presented_at']).execute();

      await db.schema.createTable('practice_progress')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', text, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('preview', 'integer', (c) => c.notNull())
        .addColumn('answered', 'integer', (c) => c.notNull())
        .addColumn('correct', 'integer', (c) => c.notNull())
        .addColumn('started_at', time, (c) => c.notNull())
        .addColumn('completed_at', time)
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('practice_progress_pk', ['activity_id', 'user_sub', 'preview'])
        .execute();
    },
  };
}
