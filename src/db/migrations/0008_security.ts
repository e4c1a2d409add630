import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * Security bookkeeping shared by every process: request counters for rate limits (fixed windows per
 * client IP or issuer), and the tool's retired signing keys, still published until their overlap ends.
 */
export function security(dialect: Dialect) {
  const { time, key } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('rate_limit_counter')
        .addColumn('bucket', key, (c) => c.notNull())
        .addColumn('window_start', time, (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limit_counter_pk', ['bucket', 'window_start'])
        .execute();
      await db.schema.createIndex('rate_limit_counter_window').on('rate_limit_counter').column('window_start').execute();

      // The primary key on the old kid also stops two processes from rotating the same key at once.
      await db.schema.createTable('retired_key')
        .addColumn('kid', key, (c) => c.primaryKey())
        .addColumn('issuer', key, (c) => c.notNull())
        .addColumn('client_id', key, (c) => c.notNull())
        .addColumn('successor_kid', key, (c) => c.notNull())
        .addColumn('retired_at', time, (c) => c.notNull())
        .addColumn('remove_after', time, (c) => c.notNull())
        .execute();
    },
  };
}
