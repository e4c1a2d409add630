import { audit } from '../../db/audit';
import { insertReturningId } from '../../db/writes';
import type { ItemResponse } from '../../content/item';
import { activityFinished, activityScore, goalReached } from '../settings';
import { findPresentation, MAX_ITEM_MS, studentKey, type Learner, type PracticeDeps } from '../practice';

export interface AnswerToRecord {
  learner: Learner;
  /** The presentation token the form carried: one answer per item shown. */
  token: string;
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

/** The token names no item shown to this learner. */
export class UnknownPresentation extends Error {}

/**
 * Stores one answer before it is acknowledged, in ONE transaction: the attempt, the knowledge tracer's
 * step, the student's progress, the score for the gradebook and the audit event. A resubmitted form
 * (same presentation token) finds its attempt already there and stores nothing. A preview attempt is
 * kept apart (preview = 1): no tracer step, no score.
 */
export async function recordAttempt(deps: PracticeDeps, a: AnswerToRecord): Promise<RecordedAttempt> {
  const l = a.learner;
  const preview = l.preview ? 1 : 0;
  return deps.db.transaction().execute(async (trx) => {
    // Claiming the presentation first serialises a double submission: the second finds it answered.
    const claimed = await trx.updateTable('practice_presentation').set({ answered_at: a.now })
      .where('token', '=', a.token).where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
      .where('user_sub', '=', l.userSub).where('preview', '=', preview).where('answered_at', 'is', null)
      .executeTakeFirst();
    const shown = await findPresentation(trx, l, a.token);
    if (!shown) throw new UnknownPresentation(`no presentation ${a.token.slice(0, 6)}… for this learner`);
    if (Number(claimed.numUpdatedRows) === 0) {
      const progress = await trx.selectFrom('practice_progress').select('completed_at')
        .where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub).where('preview', '=', preview).executeTakeFirst();
      return { attemptId: shown.attempt_id!, duplicate: true, goalReached: false, finished: progress?.completed_at != null };
    }

    const skillIds = (await deps.banks.bank(trx, l.activity.bankId)).items.get(shown.item_id)?.skillIds ?? [];
    const attemptId = await insertReturningId(trx, 'attempt', {
      tenant_id: l.tenantId, context_id: l.contextId, activity_id: l.activity.id, user_sub: l.userSub, item_id: shown.item_id,
      skill_ids: JSON.stringify(skillIds), response: JSON.stringify(a.response), correct: a.correct ? 1 : 0,
      hints_used: shown.hints_used, duration_ms: Math.max(0, Math.min(MAX_ITEM_MS, a.now - shown.presented_at)), preview, created_at: a.now,
    });
    await trx.updateTable('practice_presentation').set({ attempt_id: attemptId }).where('token', '=', a.token).execute();

    const tracer = deps.tracerWithin(trx);
    const { mastery } = l.preview
      ? await tracer.knowledge(studentKey(l))
      : await tracer.recordAnswer(trx, studentKey(l), { itemId: shown.item_id, skillIds, correct: a.correct, at: a.now });

    const before = await trx.selectFrom('practice_progress').selectAll()
      .where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub).where('preview', '=', preview).executeTakeFirst();
    const answered = (before?.answered ?? 0) + 1;
    const correct = (before?.correct ?? 0) + (a.correct ? 1 : 0);
    const overrides = await deps.studentOverrides(trx, { tenantId: l.tenantId, activityId: l.activity.id, userSub: l.userSub });
    const skipped = new Set(overrides.skippedSkills);
    const goalSkills = l.activity.settings.skillIds.filter((s) => !skipped.has(s));
    const goal = goalReached(goalSkills, mastery, l.activity.settings.masteryThreshold);
    const finished = before?.completed_at != null || activityFinished(l.activity.settings, answered, goal);
    const completedAt = before?.completed_at ?? (finished ? a.now : null);
    if (before) {
      await trx.updateTable('practice_progress').set({ answered, correct, completed_at: completedAt, updated_at: a.now })
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
        scoreGiven: activityScore(l.activity.settings, goalSkills, mastery, correct, answered), scoreMaximum: 100,
        activityProgress: finished ? 'Completed' : answered === 1 ? 'Started' : 'InProgress',
        gradingProgress: goal ? 'FullyGraded' : 'Pending',
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
}
