import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * item.difficulty: a teacher's tag from the imported file ('easy', 'medium', 'hard'; null when untagged),
 * the knowledge estimate's item difficulty until the tenant's own answers calibrate it (src/kt/estimate.ts).
 */
export function itemDifficulty(dialect: Dialect) {
  const { key } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('item')
        .addColumn('difficulty', key, (c) => c.check(sql`difficulty in ('easy', 'medium', 'hard')`))
        .execute();
    },
  };
}
