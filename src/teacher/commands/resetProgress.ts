import { audit } from '../../db/audit';
import type { KnowledgeTracer } from '../../kt/tracer';
import { enqueueScore } from '../../grades/outbox';
import { courseActivity, type StudentCommandProps } from '../overrides';

export interface ResetProgressProps extends StudentCommandProps {
  /** Its stored knowledge states are forgotten and rebuilt from the attempts that remain. */
  tracer: KnowledgeTracer;
}

/**
 * Starts a student over in one activity: their attempts in it, the items they were shown and their
 * progress row (answered, finished) are deleted, their knowledge states for the activity's bank in
 * this course forgotten, and the gradebook told the activity is started again (a Pending score, so
 * the LMS clears the grade). Returns how many attempts went.
 */
export async function resetProgress(props: ResetProgressProps): Promise<number> {
  return props.db.transaction().execute(async (tx) => {
    const activity = await courseActivity(tx, props.tenantId, props.contextId, props.activityId);
    const mine = (table: 'attempt' | 'practice_presentation' | 'practice_progress') => tx.deleteFrom(table)
      .where('tenant_id', '=', props.tenantId).where('context_id', '=', props.contextId)
      .where('activity_id', '=', activity.id).where('user_sub', '=', props.userSub);
    // Items shown point at attempts; the progress row is what makes the activity open on "You finished".
    await mine('practice_presentation').execute();
    const gone = await mine('attempt').executeTakeFirst();
    await mine('practice_progress').execute();
    await props.tracer.forget(tx, { tenantId: props.tenantId, contextId: props.contextId, userSub: props.userSub, bankId: activity.bankId });
    const now = Date.now();
    const graded = await tx.selectFrom('score_outbox').select('score_maximum')
      .where('tenant_id', '=', props.tenantId).where('activity_id', '=', activity.id).where('user_sub', '=', props.userSub).executeTakeFirst();
    if (graded) {
      await enqueueScore(tx, {
        tenantId: props.tenantId, contextId: props.contextId, activityId: activity.id, userSub: props.userSub,
        scoreGiven: 0, scoreMaximum: graded.score_maximum, activityProgress: 'Started', gradingProgress: 'Pending', timestamp: new Date(now).toISOString(),
      });
    }
    const attempts = Number(gone.numDeletedRows);
    await audit(tx, {
      tenantId: props.tenantId, contextId: props.contextId, actor: props.actor, action: 'teacher.progress.reset',
      subject: `activity:${activity.id}:user:${props.userSub}`, details: { attemptsDeleted: attempts }, at: now,
    });
    return attempts;
  });
}
