import crypto from 'node:crypto';
import type { Db, PracticePresentationTable } from '../db/schema';
import type { KnowledgeTracer, StudentKey } from '../kt/tracer';
import type { ScoreChange } from '../grades/outbox';
import type { Locale } from '../web/i18n';
import { randomToken } from '../crypto';
import { bankSkills, type Activity, type BankSkill } from './activities';
import { chooseNextItem, type ChoiceKind, type PolicyHistoryEntry, type PolicyItem, type TeacherOverrides } from './policy';

/** What practice needs from the other parts of Jejak; wired in the composition root. */
export interface PracticeDeps {
  db: Db;
  tracer: KnowledgeTracer;
  /** The tracer reading and writing through `db` (the attempt's transaction), so it sees the new attempt. */
  tracerWithin(db: Db): KnowledgeTracer;
  /** src/grades/outbox.ts: records the student's new score with the attempt, for the gradebook. */
  enqueueScore(db: Db, change: ScoreChange): Promise<void>;
  /** src/teacher/overrides.ts: what the teacher decided for this student over the policy. */
  studentOverrides(db: Db, key: { tenantId: number; activityId: number; userSub: string }): Promise<TeacherOverrides>;
}

/** Who practises which activity. A teacher trying the activity practises in preview: nothing counts. */
export interface Learner {
  tenantId: number;
  contextId: string;
  userSub: string;
  activity: Activity;
  preview: boolean;
}

export function studentKey(l: Learner): StudentKey {
  return { tenantId: l.tenantId, contextId: l.contextId, userSub: l.userSub, bankId: l.activity.bankId };
}

/** presentation.reason: why the item was chosen, in the engine's numbers at that moment. */
export interface PresentationReason {
  kind: ChoiceKind;
  mastery: number;
  pSuccess: number;
  movedFromStuck: number | null;
}

export type Presentation = Omit<PracticePresentationTable, 'reason'> & { reason: PresentationReason };

function toPresentation(r: PracticePresentationTable): Presentation {
  return { ...r, reason: JSON.parse(r.reason) as PresentationReason };
}

export interface SkillProgress extends BankSkill {
  mastery: number;
  mastered: boolean;
  /** Resting because the student is stuck on it. */
  paused: boolean;
}

/** The activity's skills for this student (the teacher's skipped ones left out), with mastery. */
export async function skillProgress(deps: PracticeDeps, l: Learner, locale: Locale, mastery: ReadonlyMap<number, number>, overrides: TeacherOverrides, paused: number[] = []): Promise<SkillProgress[]> {
  const all = await bankSkills(deps.db, l.activity.bankId, locale);
  const skipped = new Set(overrides.skippedSkills);
  const chosen = l.activity.settings.skillIds.filter((id) => !skipped.has(id));
  return chosen.map((id) => all.find((s) => s.id === id)).filter((s): s is BankSkill => !!s).map((s) => {
    const m = mastery.get(s.id) ?? 0;
    return { ...s, mastery: m, mastered: m >= l.activity.settings.masteryThreshold, paused: paused.includes(s.id) };
  });
}

/** The engine's mastery for the learner. A preview has no state of its own, so it shows the teacher's (cold start). */
export function masteryOf(deps: PracticeDeps, l: Learner): Promise<Map<number, number>> {
  return deps.tracer.skillMastery(studentKey(l));
}

function presentations(db: Db, l: Learner) {
  return db.selectFrom('practice_presentation').selectAll()
    .where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
    .where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0);
}

export async function findPresentation(db: Db, l: Learner, token: string): Promise<Presentation | undefined> {
  const r = await presentations(db, l).where('token', '=', token).executeTakeFirst();
  return r && toPresentation(r);
}

/** What the learner answered in this activity, oldest first, as the policy reads it. */
async function history(db: Db, l: Learner): Promise<PolicyHistoryEntry[]> {
  const rows = await presentations(db, l).where('answered_at', 'is not', null).select(['item_id', 'skill_id', 'reason'])
    .orderBy('answered_at').orderBy('presented_at').execute();
  return rows.map((r) => ({ itemId: r.item_id, skillId: r.skill_id, masteryBefore: (JSON.parse(r.reason) as PresentationReason).mastery }));
}

/** Items of the bank practising the activity's skills (the policy keeps those entirely inside them). */
async function activityItems(db: Db, l: Learner): Promise<PolicyItem[]> {
  const rows = await db.selectFrom('item').innerJoin('item_skill', 'item_skill.item_id', 'item.id')
    .select(['item.id', 'item.position', 'item_skill.skill_id'])
    .where('item.bank_id', '=', l.activity.bankId)
    .where('item.id', 'in', (eb) => eb.selectFrom('item_skill').select('item_id').where('skill_id', 'in', l.activity.settings.skillIds))
    .orderBy('item.id').execute();
  const items = new Map<number, PolicyItem>();
  for (const r of rows) {
    const item = items.get(r.id) ?? { id: r.id, position: r.position, skillIds: [] };
    item.skillIds.push(r.skill_id);
    items.set(r.id, item);
  }
  return [...items.values()];
}

export interface CurrentItem {
  presentation: Presentation;
  mastery: Map<number, number>;
  overrides: TeacherOverrides;
  pausedSkills: number[];
}

/**
 * The item the learner is on: the one shown and not yet answered (so leaving and relaunching resumes
 * on it), else a new one chosen by the policy. Undefined when the activity has no item to practise.
 */
export async function currentItem(deps: PracticeDeps, l: Learner, locale: Locale, now = Date.now()): Promise<CurrentItem | undefined> {
  const { db } = deps;
  const [mastery, overrides] = await Promise.all([masteryOf(deps, l), deps.studentOverrides(db, { tenantId: l.tenantId, activityId: l.activity.id, userSub: l.userSub })]);
  const open = await presentations(db, l).where('answered_at', 'is', null).orderBy('presented_at', 'desc').executeTakeFirst();
  const [items, past, skills] = await Promise.all([activityItems(db, l), history(db, l), bankSkills(db, l.activity.bankId, locale)]);
  const chosen = new Set(l.activity.settings.skillIds);
  const policyInput = {
    skills: l.activity.settings.skillIds.map((id) => ({ id, prerequisites: skills.find((s) => s.id === id)?.prerequisites ?? [] })),
    items: items.filter((i) => i.skillIds.some((s) => chosen.has(s))),
    mastery, threshold: l.activity.settings.masteryThreshold, history: past, overrides,
    random: () => crypto.randomInt(0, 1 << 30) / (1 << 30),
  };
  const pSuccess = await deps.tracer.itemSuccess(studentKey(l), policyInput.items.map((i) => i.id));
  const choice = chooseNextItem({ ...policyInput, pSuccess });
  if (open) return { presentation: toPresentation(open), mastery, overrides, pausedSkills: choice?.pausedSkills ?? [] };
  if (!choice) return undefined;
  const reason: PresentationReason = { kind: choice.kind, mastery: choice.mastery, pSuccess: choice.pSuccess, movedFromStuck: choice.movedFromStuck };
  const row: PracticePresentationTable = {
    token: randomToken(18), tenant_id: l.tenantId, context_id: l.contextId, activity_id: l.activity.id, user_sub: l.userSub,
    preview: l.preview ? 1 : 0, item_id: choice.itemId, skill_id: choice.skillId, reason: JSON.stringify(reason),
    hints_used: 0, solution_shown: 0, presented_at: now, answered_at: null, attempt_id: null,
  };
  await db.insertInto('practice_presentation').values(row).execute();
  return { presentation: toPresentation(row), mastery, overrides, pausedSkills: choice.pausedSkills };
}

/** Records that one more hint was shown (at most `available`); hints of an answered item are not counted. */
export async function useHint(db: Db, l: Learner, token: string, available: number): Promise<void> {
  await db.updateTable('practice_presentation').set((eb) => ({ hints_used: eb('hints_used', '+', 1) }))
    .where('token', '=', token).where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
    .where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0)
    .where('answered_at', 'is', null).where('hints_used', '<', available).execute();
}

export async function markSolutionShown(db: Db, l: Learner, token: string): Promise<void> {
  await db.updateTable('practice_presentation').set({ solution_shown: 1 })
    .where('token', '=', token).where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
    .where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0).execute();
}

export interface Progress {
  answered: number;
  correct: number;
  startedAt: number;
  completedAt: number | null;
  /** Time spent answering, each item counted up to {@link MAX_ITEM_MS}. */
  timeSpentMs: number;
}

export async function progressOf(db: Db, l: Learner): Promise<Progress | undefined> {
  const p = await db.selectFrom('practice_progress').selectAll()
    .where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0).executeTakeFirst();
  if (!p) return undefined;
  const time = await db.selectFrom('attempt').select((eb) => eb.fn.sum<number>('duration_ms').as('ms'))
    .where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub)
    .where('preview', '=', l.preview ? 1 : 0).executeTakeFirst();
  return { answered: p.answered, correct: p.correct, startedAt: p.started_at, completedAt: p.completed_at, timeSpentMs: Number(time?.ms ?? 0) };
}

/** An item left open over a break counts as this long at most. */
export const MAX_ITEM_MS = 10 * 60_000;
