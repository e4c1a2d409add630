import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';

/** Images a bank refers to (imported with it), served to the sessions of the bank's tenant. */
export function contentAssets(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('bank_asset')
        .addColumn('bank_id', 'integer', (c) => c.notNull().references('bank.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('bank_asset_pk', ['bank_id', 'name'])
        .execute();
    },
  };
}
