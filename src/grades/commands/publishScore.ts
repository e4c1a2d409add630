import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { enqueueScore, type ScoreChange } from '../outbox';

export interface PublishScoreProps {
  /** The database; the command runs its own transaction. */
  db: Db;
  tenantId: number;
  /** The course of the activity; the teacher's launch context. */
  contextId: string;
  activityId: number;
  /** The student's LTI sub. */
  userSub: string;
  /** Who asked, for the audit log: 'lti:<sub>' of the teacher. */
  actor: string;
}

/**
 * Sends a student's latest score to the gradebook again, freshly stamped: after the teacher fixed
 * what made the LMS refuse it (the student enrolled late, grades turned on). False when there is no
 * score of that student in that activity of the course.
 */
export async function publishScore(props: PublishScoreProps): Promise<boolean> {
  const { tenantId, contextId, activityId, userSub } = props;
  return props.db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('score_outbox').selectAll()
      .where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('activity_id', '=', activityId).where('user_sub', '=', userSub)
      .executeTakeFirst();
    if (!row) return false;
    const now = Date.now();
    const change: ScoreChange = {
      tenantId, contextId, activityId, userSub,
      scoreGiven: row.score_given, scoreMaximum: row.score_maximum,
      activityProgress: row.activity_progress as ScoreChange['activityProgress'],
      gradingProgress: row.grading_progress as ScoreChange['gradingProgress'],
      timestamp: new Date(now).toISOString(),
    };
    await enqueueScore(tx, change);
    await audit(tx, {
      tenantId, contextId, actor: props.actor, action: 'grade.published', subject: `activity:${activityId}:user:${userSub}`, at: now,
      details: { scoreGiven: row.score_given, scoreMaximum: row.score_maximum, previousProblem: row.problem },
    });
    return true;
  });
}
