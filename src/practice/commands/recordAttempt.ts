import { audit } from '../../db/audit';
import { insertReturningId } from '../../db/writes';
import type { ItemResponse } from '../../content/item';
import { recordedEstimates } from '../../kt/estimate';
import { activityFinished, activityScore, goalReached } from '../settings';
import { findPresentation, MAX_ITEM_MS, progressOf, studentKey, type Learner, type PracticeDeps, type Presentation } from '../practice';

export interface AnswerToRecord {
  learner: Learner;
  /**
   * The item shown, found by the token the form carried (one answer per item shown). Its item, time
   * shown and hints, as read then, go into the attempt; if it was answered meanwhile, nothing is stored.
   */
  shown: Presentation;
  response: ItemResponse;
  correct: boolean;
  now: number;
  /** The launch's AGS endpoint claim (it names the link's line item), when the platform sent one. */
  agsEndpoint?: unknown;
}

export interface RecordedAttempt {
  attemptId: number;
  /** The same form was submitted again: nothing new was stored. */
  duplicate: boolean;
  goalReached: boolean;
  finished: boolean;
}

/** A second submission of the same form got in first: this transaction stored nothing. */
class AnsweredMeanwhile extends Error {}

/**
 * Stores one answer before it is acknowledged, in ONE transaction: the attempt, the knowledge tracer's
 * step, the student's progress, the score for the gradebook and the audit event. A resubmitted form
 * (same presentation token) finds the presentation already claimed by the first and stores nothing.
 * A preview attempt is kept apart (preview = 1): no tracer step, no score.
 *
 * What only informs the writes (the tracer's reading, the progress so far, the teacher's overrides)
 * is read first, together, outside the transaction: on PostgreSQL every statement inside is a round
 * trip while the transaction is open, and at a class start those add up.
 */
export async function recordAttempt(deps: PracticeDeps, a: AnswerToRecord): Promise<RecordedAttempt> {
  const l = a.learner;
  const { shown } = a;
  const preview = l.preview ? 1 : 0;
  const [before, overrides, reading, bank] = await Promise.all([
    progressOf(deps.db, l),
    deps.studentOverrides(deps.db, { tenantId: l.tenantId, activityId: l.activity.id, userSub: l.userSub }),
    l.preview ? undefined : deps.tracer.readBeforeAnswer(studentKey(l)),
    deps.banks.bank(deps.db, l.activity.bankId),
  ]);
  const duplicate = async (): Promise<RecordedAttempt> => {
    const first = await findPresentation(deps.db, l, shown.token);
    const progress = await progressOf(deps.db, l);
    return { attemptId: first!.attempt_id!, duplicate: true, goalReached: false, finished: progress?.completedAt != null };
  };
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const skillIds = bank.items.get(shown.item_id)?.skillIds ?? [];
      const attemptId = await insertReturningId(trx, 'attempt', {
        tenant_id: l.tenantId, context_id: l.contextId, activity_id: l.activity.id, user_sub: l.userSub, item_id: shown.item_id,
        skill_ids: JSON.stringify(skillIds), response: JSON.stringify(a.response), correct: a.correct ? 1 : 0,
        hints_used: shown.hints_used, duration_ms: Math.max(0, Math.min(MAX_ITEM_MS, a.now - shown.presented_at)), preview, created_at: a.now,
      });
      // Claiming the presentation serialises a double submission: the second waits for the first's row
      // lock, finds it answered and is rolled back, its attempt with it. (So the presentation need not be
      // read again in here: one round trip less while the transaction holds its locks.)
      const claimed = await trx.updateTable('practice_presentation').set({ answered_at: a.now, attempt_id: attemptId })
        .where('token', '=', shown.token).where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
        .where('user_sub', '=', l.userSub).where('preview', '=', preview).where('answered_at', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) throw new AnsweredMeanwhile();

      const tracer = deps.tracerWithin(trx);
      const { estimates } = l.preview
        ? await tracer.knowledge(studentKey(l))
        : await tracer.recordAnswer(trx, studentKey(l), { itemId: shown.item_id, skillIds, correct: a.correct, at: a.now }, reading);
      // The estimates as they stand after this answer: the teacher's chart over time reads them back.
      if (!l.preview) await trx.updateTable('attempt').set({ estimates: recordedEstimates(l.activity.settings.skillIds, estimates) }).where('id', '=', attemptId).execute();

      const answered = (before?.answered ?? 0) + 1;
      const correct = (before?.correct ?? 0) + (a.correct ? 1 : 0);
      const skipped = new Set(overrides.skippedSkills);
      const goalSkills = l.activity.settings.skillIds.filter((id) => !skipped.has(id));
      const goal = goalReached(goalSkills, estimates, l.activity.settings.masteryThreshold);
      const finished = before?.completedAt != null || activityFinished(l.activity.settings, answered, goal);
      const completedAt = before?.completedAt ?? (finished ? a.now : null);
      if (before) {
        // Counted in SQL: another tab's answer in between is not lost.
        await trx.updateTable('practice_progress')
          .set((eb) => ({ answered: eb('answered', '+', 1), correct: eb('correct', '+', a.correct ? 1 : 0), completed_at: eb.fn.coalesce('completed_at', eb.val(completedAt)), updated_at: a.now }))
          .where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub).where('preview', '=', preview).execute();
      } else {
        await trx.insertInto('practice_progress').values({
          tenant_id: l.tenantId, context_id: l.contextId, activity_id: l.activity.id, user_sub: l.userSub, preview,
          answered, correct, started_at: shown.presented_at, completed_at: completedAt, updated_at: a.now,
        }).execute();
      }

      if (!l.preview) {
        await deps.enqueueScore(trx, {
          tenantId: l.tenantId, contextId: l.contextId, activityId: l.activity.id, userSub: l.userSub,
          scoreGiven: activityScore(l.activity.settings, goalSkills, estimates, correct, answered), scoreMaximum: 100,
          activityProgress: finished ? 'Completed' : answered === 1 ? 'Started' : 'InProgress',
          // A running grade as well as the final one (goal reached or not): Moodle keeps scoreGiven only when FullyGraded.
          gradingProgress: 'FullyGraded',
          timestamp: new Date(a.now).toISOString(),
          endpoint: a.agsEndpoint,
        });
      }
      await audit(trx, {
        tenantId: l.tenantId, contextId: l.contextId, actor: `lti:${l.userSub}`, action: l.preview ? 'practice.preview_answer' : 'practice.answer',
        // The append-only log names the attempt but keeps none of its learning data: erasing the attempt
        // must leave nothing of what the student answered behind.
        subject: `attempt:${attemptId}`, details: { activityId: l.activity.id },
        at: a.now,
      });
      return { attemptId, duplicate: false, goalReached: goal, finished };
    });
  } catch (e) {
    if (e instanceof AnsweredMeanwhile) return duplicate();
    throw e;
  }
}
