import type { Kysely } from 'kysely';

/**
 * Indexes for queries every answer makes, which otherwise read a whole class's or a whole install's
 * rows (bench/load.ts): a student's time spent (attempts by activity and student, not all of the
 * activity's attempts), and the course's latest launch for the grade outbox (not every session).
 */
export function answerPathIndexes() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('attempt_activity_student').on('attempt').columns(['activity_id', 'user_sub', 'preview']).execute();
      await db.schema.createIndex('launch_session_context').on('launch_session').columns(['tenant_id', 'context_id', 'created_at']).execute();
    },
  };
}
