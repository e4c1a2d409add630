import type { Kysely } from 'kysely';

/**
 * The version of each outbox score last handed to a sender to post. A platform's "not later than the
 * grade held" refusal (Moodle's 409) of that same version, posted again after a crash or a timeout,
 * answers our own earlier post: the score is in the gradebook, not overtaken.
 */
export function scoreResends() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('score_outbox').addColumn('sent_version', 'integer').execute();
    },
  };
}
