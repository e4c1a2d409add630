import type { Db } from '../db/schema';
import { BktModel } from '../kt/coldstart';
import type { KnowledgeTracer } from '../kt/tracer';
import { bankSkills, type Activity } from '../practice/activities';
import type { PresentationReason } from '../practice/practice';
import type { TeacherOverrides } from '../practice/policy';
import type { Locale } from '../web/i18n';
import { studentOverrides } from './overrides';

export interface StudentAttempt {
  at: number;
  itemCode: string;
  skillNames: string[];
  correct: boolean;
  hintsUsed: number;
  durationMs: number;
}

export interface Recommendation {
  at: number;
  itemCode: string;
  skillName: string;
  reason: PresentationReason;
  answered: boolean;
}

/** One skill's mastery after each of the student's answers on it (starting with the estimate before any). */
export interface MasteryTrace {
  skillId: number;
  name: string;
  points: number[];
  current: number | null;
}

export interface StudentView {
  skills: { id: number; name: string; mastery: number | null; unlocked: boolean; skipped: boolean }[];
  traces: MasteryTrace[];
  attempts: StudentAttempt[];
  recommendations: Recommendation[];
  overrides: TeacherOverrides;
  grade: { status: string; scoreGiven: number; scoreMaximum: number; problem: string | null; problemDetail: string | null; deliveredAt: number | null } | undefined;
}

/**
 * A student's work in one activity. Mastery over time is replayed from the answers with
 * knowledge-tracing defaults (BKT), as the engine's stored state keeps only the latest estimate; the
 * current mastery is the engine's.
 */
export async function studentView(db: Db, tracer: KnowledgeTracer, launch: { tenantId: number; contextId: string }, activity: Activity, userSub: string, locale: Locale): Promise<StudentView> {
  const bank = await bankSkills(db, activity.bankId, locale);
  const nameOf = (id: number) => bank.find((s) => s.id === id)?.name ?? `#${id}`;
  const rows = await db.selectFrom('attempt').innerJoin('item', 'item.id', 'attempt.item_id')
    .select(['attempt.created_at', 'item.code', 'attempt.skill_ids', 'attempt.correct', 'attempt.hints_used', 'attempt.duration_ms'])
    .where('attempt.tenant_id', '=', launch.tenantId).where('attempt.context_id', '=', launch.contextId)
    .where('attempt.activity_id', '=', activity.id).where('attempt.user_sub', '=', userSub).where('attempt.preview', '=', 0)
    .orderBy('attempt.created_at').orderBy('attempt.id').execute();
  const shown = await db.selectFrom('practice_presentation').innerJoin('item', 'item.id', 'practice_presentation.item_id')
    .select(['practice_presentation.presented_at', 'item.code', 'practice_presentation.skill_id', 'practice_presentation.reason', 'practice_presentation.answered_at'])
    .where('practice_presentation.tenant_id', '=', launch.tenantId).where('practice_presentation.context_id', '=', launch.contextId)
    .where('practice_presentation.activity_id', '=', activity.id).where('practice_presentation.user_sub', '=', userSub)
    .where('practice_presentation.preview', '=', 0)
    .orderBy('practice_presentation.presented_at', 'desc').limit(50).execute();
  const current = rows.length ? (await tracer.classMastery(launch.tenantId, launch.contextId, activity.bankId, [userSub])).get(userSub) : undefined;
  const overrides = await studentOverrides(db, { tenantId: launch.tenantId, activityId: activity.id, userSub });

  const skillIds = activity.settings.skillIds;
  const bkt = BktModel.untrained(skillIds.length);
  const state = bkt.initialState();
  const traces: MasteryTrace[] = skillIds.map((id, k) => ({ skillId: id, name: nameOf(id), points: [state[k]], current: current?.get(id) ?? null }));
  for (const r of rows) {
    for (const id of JSON.parse(r.skill_ids) as number[]) {
      const k = skillIds.indexOf(id);
      if (k < 0) continue;
      bkt.step(state, k, undefined, r.correct === 1);
      traces[k].points.push(state[k]);
    }
  }
  const grade = await db.selectFrom('score_outbox').selectAll()
    .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).where('activity_id', '=', activity.id).where('user_sub', '=', userSub)
    .executeTakeFirst();
  return {
    skills: skillIds.map((id) => ({
      id, name: nameOf(id), mastery: current?.get(id) ?? null,
      unlocked: overrides.unlockedSkills.includes(id), skipped: overrides.skippedSkills.includes(id),
    })),
    traces,
    attempts: rows.map((r) => ({
      at: r.created_at, itemCode: r.code, skillNames: (JSON.parse(r.skill_ids) as number[]).map(nameOf),
      correct: r.correct === 1, hintsUsed: r.hints_used, durationMs: r.duration_ms,
    })),
    recommendations: shown.map((p) => ({
      at: p.presented_at, itemCode: p.code, skillName: nameOf(p.skill_id), reason: JSON.parse(p.reason) as PresentationReason, answered: p.answered_at !== null,
    })),
    overrides,
    grade: grade && {
      status: grade.status, scoreGiven: grade.score_given, scoreMaximum: grade.score_maximum,
      problem: grade.problem, problemDetail: grade.problem_detail, deliveredAt: grade.delivered_at,
    },
  };
}
