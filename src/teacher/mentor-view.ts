import type { Db } from '../db/schema';
import { bankSkills, type Activity } from '../practice/activities';
import type { Locale } from '../web/i18n';

/** A mentor's page shows this many of the learners the claim names, at most (each is read from the database). */
export const MAX_MENTEES = 30;

/** One learner as their mentor sees them: their progress in the activity and their answers per skill. */
export interface MenteeRow {
  userSub: string;
  answered: number;
  correct: number;
  finished: boolean;
  skills: { id: number; name: string; answered: number; correct: number }[];
}

/**
 * What a mentor (a parent, an observer) may read: the progress in one activity of the learners the
 * launch named for them, and nothing of anyone else. The order of `mentees` is kept.
 */
export async function mentorView(db: Db, course: { tenantId: number; contextId: string }, activity: Activity, mentees: readonly string[], locale: Locale): Promise<MenteeRow[]> {
  if (mentees.length === 0) return [];
  const bank = await bankSkills(db, activity.bankId, locale);
  const skills = activity.settings.skillIds.map((id) => ({ id, name: bank.find((s) => s.id === id)?.name ?? `#${id}` }));
  const progress = await db.selectFrom('practice_progress').select(['user_sub', 'completed_at'])
    .where('tenant_id', '=', course.tenantId).where('context_id', '=', course.contextId).where('activity_id', '=', activity.id)
    .where('preview', '=', 0).where('user_sub', 'in', [...mentees]).execute();
  const attempts = await db.selectFrom('attempt').select(['user_sub', 'skill_ids', 'correct'])
    .where('tenant_id', '=', course.tenantId).where('context_id', '=', course.contextId).where('activity_id', '=', activity.id)
    .where('preview', '=', 0).where('user_sub', 'in', [...mentees]).execute();
  const finished = new Set(progress.filter((p) => p.completed_at !== null).map((p) => p.user_sub));
  return mentees.map((sub) => {
    const mine = attempts.filter((a) => a.user_sub === sub).map((a) => ({ skills: JSON.parse(a.skill_ids) as number[], correct: a.correct === 1 }));
    return {
      userSub: sub, answered: mine.length, correct: mine.filter((a) => a.correct).length, finished: finished.has(sub),
      skills: skills.map((s) => {
        const on = mine.filter((a) => a.skills.includes(s.id));
        return { ...s, answered: on.length, correct: on.filter((a) => a.correct).length };
      }),
    };
  });
}
