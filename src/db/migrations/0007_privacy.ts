import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * Privacy: which students have seen the first-launch notice, the groups a school names for the
 * fairness report, per-item totals kept when old attempts are removed by retention, a retraining
 * marker on models whose training data was erased, and triggers that make the audit log append-only.
 */
export function privacy(dialect: Dialect) {
  const { time, text, key } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('privacy_notice')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('shown_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('privacy_notice_pk', ['tenant_id', 'user_sub'])
        .execute();

      await db.schema.createTable('student_group')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('group_name', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('student_group_pk', ['tenant_id', 'context_id', 'user_sub'])
        .execute();

      await db.schema.createTable('attempt_aggregate')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('item_id', 'integer', (c) => c.notNull().references('item.id').onDelete('cascade'))
        .addColumn('answers', 'integer', (c) => c.notNull())
        .addColumn('correct', 'integer', (c) => c.notNull())
        .addColumn('hints_used', 'integer', (c) => c.notNull())
        .addColumn('duration_ms', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('attempt_aggregate_pk', ['tenant_id', 'context_id', 'activity_id', 'item_id'])
        .execute();

      await db.schema.alterTable('kt_model').addColumn('retrain_needed', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      if (dialect === 'postgres') {
        await sql`CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$`.execute(db);
        await sql`CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
          FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`.execute(db);
      } else if (dialect === 'mysql') {
        // MySQL triggers are FOR EACH ROW and refuse with SIGNAL.
        for (const [name, event] of [['audit_event_no_update', 'UPDATE'], ['audit_event_no_delete', 'DELETE']] as const) {
          await sql`CREATE TRIGGER ${sql.id(name)} BEFORE ${sql.raw(event)} ON audit_event
            FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_event is append-only'`.execute(db);
        }
      } else {
        await sql`CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
          BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`.execute(db);
        await sql`CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
          BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`.execute(db);
      }
    },
  };
}
