import type { Db } from '../db/schema';
import { readRecordedEstimates, statusOf, type EstimateStatus, type SkillEstimate } from '../kt/estimate';
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

/** One skill's estimate right after each of the student's answers on it, as recorded then (attempt.estimates). */
export interface MasteryTrace {
  skillId: number;
  name: string;
  points: SkillEstimate[];
}

export interface StudentView {
  /** `estimate` null: not tried. */
  skills: { id: number; name: string; estimate: SkillEstimate | null; status: EstimateStatus; unlocked: boolean; skipped: boolean }[];
  traces: MasteryTrace[];
  attempts: StudentAttempt[];
  recommendations: Recommendation[];
  overrides: TeacherOverrides;
  grade: { status: string; scoreGiven: number; scoreMaximum: number; problem: string | null; problemDetail: string | null; deliveredAt: number | null } | undefined;
}

/**
 * A student's work in one activity: the current estimates (the tracer's), and each skill's estimate
 * over time as it was recorded after each answer — the same estimate, never a replay by another model.
 */
export async function studentView(db: Db, tracer: KnowledgeTracer, launch: { tenantId: number; contextId: string }, activity: Activity, userSub: string, locale: Locale): Promise<StudentView> {
  const bank = await bankSkills(db, activity.bankId, locale);
  const nameOf = (id: number) => bank.find((s) => s.id === id)?.name ?? `#${id}`;
  const rows = await db.selectFrom('attempt').innerJoin('item', 'item.id', 'attempt.item_id')
    .select(['attempt.created_at', 'item.code', 'attempt.skill_ids', 'attempt.correct', 'attempt.hints_used', 'attempt.duration_ms', 'attempt.estimates'])
    .where('attempt.tenant_id', '=', launch.tenantId).where('attempt.context_id', '=', launch.contextId)
    .where('attempt.activity_id', '=', activity.id).where('attempt.user_sub', '=', userSub).where('attempt.preview', '=', 0)
    .orderBy('attempt.created_at').orderBy('attempt.id').execute();
  const shown = await db.selectFrom('practice_presentation').innerJoin('item', 'item.id', 'practice_presentation.item_id')
    .select(['practice_presentation.presented_at', 'item.code', 'practice_presentation.skill_id', 'practice_presentation.reason', 'practice_presentation.answered_at'])
    .where('practice_presentation.tenant_id', '=', launch.tenantId).where('practice_presentation.context_id', '=', launch.contextId)
    .where('practice_presentation.activity_id', '=', activity.id).where('practice_presentation.user_sub', '=', userSub)
    .where('practice_presentation.preview', '=', 0)
    .orderBy('practice_presentation.presented_at', 'desc').limit(50).execute();
  const current = rows.length ? (await tracer.classEstimates(launch.tenantId, launch.contextId, activity.bankId, [userSub])).get(userSub) : undefined;
  const overrides = await studentOverrides(db, { tenantId: launch.tenantId, activityId: activity.id, userSub });

  const skillIds = activity.settings.skillIds;
  const threshold = activity.settings.masteryThreshold;
  const traces: MasteryTrace[] = skillIds.map((id) => ({ skillId: id, name: nameOf(id), points: [] }));
  for (const r of rows) {
    const recorded = readRecordedEstimates(r.estimates);
    for (const id of JSON.parse(r.skill_ids) as number[]) {
      const e = recorded.get(id);
      const k = skillIds.indexOf(id);
      if (e && k >= 0) traces[k].points.push(e);
    }
  }
  const grade = await db.selectFrom('score_outbox').selectAll()
    .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).where('activity_id', '=', activity.id).where('user_sub', '=', userSub)
    .executeTakeFirst();
  return {
    skills: skillIds.map((id) => {
      const e = current?.get(id);
      const status = statusOf(e, threshold);
      return {
        id, name: nameOf(id), estimate: status === 'not_tried' ? null : e!, status,
        unlocked: overrides.unlockedSkills.includes(id), skipped: overrides.skippedSkills.includes(id),
      };
    }),
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
