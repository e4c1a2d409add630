import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/** Images a bank refers to (imported with it), served to the sessions of the bank's tenant. */
export function contentAssets(dialect: Dialect) {
  const { time, text, key, blob } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('bank_asset')
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('name', key, (c) => c.notNull())
        .addColumn('media_type', text, (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('bank_asset_pk', ['bank_id', 'name'])
        .execute();
    },
  };
}
