import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/** Background training jobs of knowledge-tracing models, with their progress. */
export function ktJobs(dialect: Dialect) {
  const { autoId, time, text, key } = columnTypes(dialect);

  return {
    async up(db: Kysely<any>): Promise<void> {
      await autoId(db.schema.createTable('kt_training_job'))
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('status', key, (c) => c.notNull())
        .addColumn('retryable', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('requested_by', text, (c) => c.notNull())
        .addColumn('options', text, (c) => c.notNull())
        .addColumn('progress', text, (c) => c.notNull().defaultTo('{}'))
        .addColumn('runner', text)
        .addColumn('model_id', 'integer', (c) => c.references('kt_model.id').onDelete('set null'))
        .addColumn('error', text)
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('started_at', time)
        .addColumn('finished_at', time)
        .addColumn('heartbeat_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('kt_training_job_bank').on('kt_training_job').columns(['tenant_id', 'bank_id', 'created_at']).execute();
      await db.schema.createIndex('kt_training_job_status').on('kt_training_job').columns(['status', 'heartbeat_at']).execute();
    },
  };
}
