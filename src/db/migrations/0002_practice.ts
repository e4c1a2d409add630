import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * Item banks, activities, attempts, knowledge-tracing models and per-student states, and the audit
 * log. Course and student data carry tenant_id (the deployment) and context_id (the LTI course).
 */
export function practice(dialect: Dialect) {
  const { autoId, time, text, key, blob } = columnTypes(dialect);

  return {
    async up(db: Kysely<any>): Promise<void> {
      await autoId(db.schema.createTable('bank'))
        .addColumn('tenant_id', 'integer', (c) => c.references('deployment.id').onDelete('cascade'))
        .addColumn('code', key, (c) => c.notNull())
        .addColumn('title', text, (c) => c.notNull())
        .addColumn('language', text, (c) => c.notNull())
        .addColumn('source', text, (c) => c.notNull())
        .addColumn('details', text, (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_by', text)
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('bank_code').on('bank').columns(['tenant_id', 'code']).execute();

      await autoId(db.schema.createTable('skill'))
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('code', key, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('details', text, (c) => c.notNull().defaultTo('{}'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addUniqueConstraint('skill_code', ['bank_id', 'code'])
        .execute();

      await db.schema.createTable('skill_prerequisite')
        .addColumn('skill_id', 'integer', (c) => c.notNull().references('skill.id').onDelete('cascade'))
        .addColumn('prerequisite_id', 'integer', (c) => c.notNull().references('skill.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('skill_prerequisite_pk', ['skill_id', 'prerequisite_id'])
        .execute();

      await autoId(db.schema.createTable('item'))
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('code', key, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('language', text, (c) => c.notNull())
        .addColumn('body', text, (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addUniqueConstraint('item_code', ['bank_id', 'code'])
        .execute();

      await db.schema.createTable('item_skill')
        .addColumn('item_id', 'integer', (c) => c.notNull().references('item.id').onDelete('cascade'))
        .addColumn('skill_id', 'integer', (c) => c.notNull().references('skill.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('item_skill_pk', ['item_id', 'skill_id'])
        .execute();
      await db.schema.createIndex('item_skill_by_skill').on('item_skill').column('skill_id').execute();

      await autoId(db.schema.createTable('activity'))
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id'))
        .addColumn('title', text, (c) => c.notNull())
        .addColumn('settings', text, (c) => c.notNull())
        .addColumn('resource_id', text, (c) => c.notNull())
        .addColumn('line_item_url', text)
        .addColumn('created_by', text)
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('activity_context').on('activity').columns(['tenant_id', 'context_id']).execute();

      await db.schema.createTable('activity_link')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('resource_link_id', key, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('context_id', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('activity_link_pk', ['tenant_id', 'resource_link_id'])
        .execute();

      await autoId(db.schema.createTable('attempt'))
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('activity_id', 'integer', (c) => c.notNull().references('activity.id').onDelete('cascade'))
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('item_id', 'integer', (c) => c.notNull().references('item.id'))
        .addColumn('skill_ids', text, (c) => c.notNull())
        .addColumn('response', text, (c) => c.notNull())
        .addColumn('correct', 'integer', (c) => c.notNull())
        .addColumn('hints_used', 'integer', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('preview', 'integer', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('attempt_student').on('attempt').columns(['tenant_id', 'context_id', 'user_sub', 'created_at']).execute();
      await db.schema.createIndex('attempt_activity').on('attempt').columns(['activity_id', 'created_at']).execute();

      await autoId(db.schema.createTable('kt_model'))
        .addColumn('tenant_id', 'integer', (c) => c.references('deployment.id').onDelete('cascade'))
        .addColumn('bank_id', 'integer', (c) => c.references('bank.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', key, (c) => c.notNull())
        .addColumn('engine', text, (c) => c.notNull())
        .addColumn('variant', text, (c) => c.notNull())
        .addColumn('weights', blob, (c) => c.notNull())
        .addColumn('meta', text, (c) => c.notNull())
        .addColumn('metrics', text, (c) => c.notNull())
        .addColumn('data_size', 'integer', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('activated_at', time)
        .execute();
      await db.schema.createIndex('kt_model_bank').on('kt_model').columns(['tenant_id', 'bank_id', 'status']).execute();

      await db.schema.createTable('kt_state')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('user_sub', key, (c) => c.notNull())
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('model_key', key, (c) => c.notNull())
        .addColumn('state', blob, (c) => c.notNull())
        .addColumn('steps', 'integer', (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('kt_state_pk', ['tenant_id', 'context_id', 'user_sub', 'bank_id', 'model_key'])
        .execute();

      await autoId(db.schema.createTable('audit_event'))
        .addColumn('tenant_id', 'integer')
        .addColumn('context_id', text)
        .addColumn('actor', text, (c) => c.notNull())
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('subject', text)
        .addColumn('details', text, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_event_time').on('audit_event').columns(['tenant_id', 'created_at']).execute();
    },
  };
}
