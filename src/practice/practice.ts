import crypto from 'node:crypto';
import type { Db, PracticePresentationTable } from '../db/schema';
import type { KnowledgeTracer, StudentKey, StudentKnowledge } from '../kt/tracer';
import { NOT_TRIED, statusOf, type EstimateStatus, type SkillEstimate } from '../kt/estimate';
import type { ScoreChange } from '../grades/outbox';
import type { Locale } from '../web/i18n';
import { randomToken } from '../crypto';
import type { BankContents } from '../content/bank-content';
import { localisedSkills, type Activity, type BankSkill } from './activities';
import { chooseNextItem, type ChoiceKind, type PolicyHistoryEntry, type PolicyItem, type TeacherOverrides } from './policy';

/** What practice needs from the other parts of Jejak; wired in the composition root. */
export interface PracticeDeps {
  db: Db;
  /** Banks' skills, items and item bodies, read once per process (banks never change once imported). */
  banks: BankContents;
  tracer: KnowledgeTracer;
  /** The tracer reading and writing through `db` (the attempt's transaction), so it sees the new attempt. */
  tracerWithin(db: Db): KnowledgeTracer;
  /** src/grades/outbox.ts: records the student's new score with the attempt, for the gradebook. */
  enqueueScore(db: Db, change: ScoreChange): Promise<void>;
  /** src/teacher/overrides.ts: what the teacher decided for this student over the policy. */
  studentOverrides(db: Db, key: { tenantId: number; activityId: number; userSub: string }): Promise<TeacherOverrides>;
  /** Uniform in [0, 1) for the policy's ties (default: crypto); a simulation passes a seeded one to be repeatable. */
  random?: () => number;
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
  /** The skill's estimate p (src/kt/estimate.ts) when shown. */
  mastery: number;
  pSuccess: number;
  /** The student's first item of the skill (absent on presentations stored before it was recorded). */
  firstTime?: boolean;
  movedFromStuck: number | null;
}

export type Presentation = Omit<PracticePresentationTable, 'reason'> & { reason: PresentationReason };

function toPresentation(r: PracticePresentationTable): Presentation {
  return { ...r, reason: JSON.parse(r.reason) as PresentationReason };
}

export interface SkillProgress extends BankSkill {
  /** The one estimate (src/kt/estimate.ts) and its status against the activity's goal. */
  estimate: SkillEstimate;
  status: EstimateStatus;
  mastered: boolean;
  /** Resting because the student is stuck on it. */
  paused: boolean;
}

/** The activity's skills for this student (the teacher's skipped ones left out), with mastery. */
export async function skillProgress(deps: PracticeDeps, l: Learner, locale: Locale, estimates: ReadonlyMap<number, SkillEstimate>, overrides: TeacherOverrides, paused: number[] = []): Promise<SkillProgress[]> {
  const all = localisedSkills((await deps.banks.bank(deps.db, l.activity.bankId)).skills, locale);
  const skipped = new Set(overrides.skippedSkills);
  const chosen = l.activity.settings.skillIds.filter((id) => !skipped.has(id));
  return chosen.map((id) => all.find((s) => s.id === id)).filter((s): s is BankSkill => !!s).map((s) => {
    const estimate = estimates.get(s.id) ?? NOT_TRIED;
    const status = statusOf(estimate, l.activity.settings.masteryThreshold);
    return { ...s, estimate, status, mastered: status === 'mastered', paused: paused.includes(s.id) };
  });
}

/** The engine's knowledge of the learner. A preview has no state of its own, so it shows the teacher's (cold start). */
export function knowledgeOf(deps: PracticeDeps, l: Learner): Promise<StudentKnowledge> {
  return deps.tracer.knowledge(studentKey(l));
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

/** An answered presentation with what was answered (the feedback page's one read). */
export async function findAnswered(db: Db, l: Learner, token: string): Promise<{ shown: Presentation; response: string; correct: number } | undefined> {
  const r = await db.selectFrom('practice_presentation as p').innerJoin('attempt as a', 'a.id', 'p.attempt_id')
    .selectAll('p').select(['a.response', 'a.correct'])
    .where('p.tenant_id', '=', l.tenantId).where('p.activity_id', '=', l.activity.id)
    .where('p.user_sub', '=', l.userSub).where('p.preview', '=', l.preview ? 1 : 0).where('p.token', '=', token)
    .executeTakeFirst();
  if (!r) return undefined;
  const { response, correct, ...row } = r;
  return { shown: toPresentation(row), response, correct };
}

/**
 * The item shown and not answered yet (the newest, if several), what was answered, oldest first, as
 * the policy reads it, and the token of the latest answer.
 */
async function openAndHistory(db: Db, l: Learner): Promise<{ open: PracticePresentationTable | undefined; history: PolicyHistoryEntry[]; lastAnswered: string | undefined }> {
  const rows = await presentations(db, l).orderBy('answered_at').orderBy('presented_at').execute();
  const answered = rows.filter((r) => r.answered_at !== null);
  const open = rows.filter((r) => r.answered_at === null).at(-1);
  return { open, history: answered.map(historyEntry), lastAnswered: answered.at(-1)?.token };
}

/** An answered presentation as the policy reads it. */
export function historyEntry(r: Pick<PracticePresentationTable, 'item_id' | 'skill_id' | 'reason'>): PolicyHistoryEntry {
  const why = JSON.parse(r.reason) as PresentationReason;
  return { itemId: r.item_id, skillId: r.skill_id, masteryBefore: why.mastery, kind: why.kind };
}

/** Items of the bank practising at least one of the activity's skills (the policy keeps those entirely inside them). */
async function activityItems(deps: PracticeDeps, l: Learner): Promise<PolicyItem[]> {
  const chosen = new Set(l.activity.settings.skillIds);
  const bank = await deps.banks.bank(deps.db, l.activity.bankId);
  return [...bank.items.values()].filter((i) => i.skillIds.some((s) => chosen.has(s)))
    .map((i) => ({ id: i.id, position: i.position, skillIds: [...i.skillIds] }));
}

export interface CurrentItem {
  presentation: Presentation;
  estimates: Map<number, SkillEstimate>;
  overrides: TeacherOverrides;
  pausedSkills: number[];
}

/**
 * The policy's choice for the learner now (nothing stored), the item shown and not yet answered, and
 * what the choice was made on. `similar`: the learner asked for another item of the skill last answered.
 */
async function policyReading(deps: PracticeDeps, l: Learner, similar = false) {
  const { db } = deps;
  const [knowledge, overrides, { open, history: past, lastAnswered }, items, bank] = await Promise.all([
    knowledgeOf(deps, l),
    deps.studentOverrides(db, { tenantId: l.tenantId, activityId: l.activity.id, userSub: l.userSub }),
    openAndHistory(db, l), activityItems(deps, l), deps.banks.bank(db, l.activity.bankId),
  ]);
  const { estimates } = knowledge;
  const choice = chooseNextItem({
    skills: l.activity.settings.skillIds.map((id) => ({ id, prerequisites: bank.skills.find((s) => s.id === id)?.prerequisites ?? [] })),
    items, estimates, threshold: l.activity.settings.masteryThreshold, history: past, overrides,
    random: deps.random ?? (() => crypto.randomInt(0, 1 << 30) / (1 << 30)),
    pSuccess: knowledge.itemSuccess(items.map((i) => i.id)),
    preferSkill: similar ? past.at(-1)?.skillId : undefined,
  });
  return { choice, open, estimates, overrides, history: past, lastAnswered };
}

/**
 * The item the learner is on: the one shown and not yet answered (so leaving and relaunching resumes
 * on it), else a new one chosen by the policy (`similar`: of the skill last answered, when the policy
 * allows it). Undefined when the activity has no item to practise.
 */
export async function currentItem(deps: PracticeDeps, l: Learner, now = Date.now(), { similar = false } = {}): Promise<CurrentItem | undefined> {
  const { db } = deps;
  const { choice, open, estimates, overrides } = await policyReading(deps, l, similar);
  if (open) return { presentation: toPresentation(open), estimates, overrides, pausedSkills: choice?.pausedSkills ?? [] };
  if (!choice) return undefined;
  const reason: PresentationReason = { kind: choice.kind, mastery: choice.mastery, pSuccess: choice.pSuccess, firstTime: choice.firstTime, movedFromStuck: choice.movedFromStuck };
  const row: PracticePresentationTable = {
    token: randomToken(18), tenant_id: l.tenantId, context_id: l.contextId, activity_id: l.activity.id, user_sub: l.userSub,
    preview: l.preview ? 1 : 0, item_id: choice.itemId, skill_id: choice.skillId, reason: JSON.stringify(reason),
    hints_used: 0, solution_shown: 0, presented_at: now, answered_at: null, attempt_id: null,
  };
  await db.insertInto('practice_presentation').values(row).execute();
  return { presentation: toPresentation(row), estimates, overrides, pausedSkills: choice.pausedSkills };
}

export interface NextPractice {
  /** What "keep practising" shows next: the skill and why (undefined when the activity has no item to practise). */
  next: { skillId: number; kind: ChoiceKind } | undefined;
  estimates: Map<number, SkillEstimate>;
  overrides: TeacherOverrides;
  pausedSkills: number[];
}

/** What {@link currentItem} would show, without storing a new presentation: a GET page (the summary) names it. */
export async function nextPractice(deps: PracticeDeps, l: Learner): Promise<NextPractice> {
  const { choice, open, estimates, overrides } = await policyReading(deps, l);
  const shown = open && toPresentation(open);
  const next = shown ? { skillId: shown.skill_id, kind: shown.reason.kind } : choice ? { skillId: choice.skillId, kind: choice.kind } : undefined;
  return { next, estimates, overrides, pausedSkills: choice?.pausedSkills ?? [] };
}

/**
 * After the answer `token`: the estimates and overrides its feedback page shows, and whether "try a
 * similar question" would give an item of its skill the learner has not seen. Only for the latest
 * answer, with no other item open (that one would be resumed instead).
 */
export async function afterAnswer(deps: PracticeDeps, l: Learner, token: string): Promise<{ estimates: Map<number, SkillEstimate>; overrides: TeacherOverrides; similar: boolean }> {
  const { choice, open, estimates, overrides, history, lastAnswered } = await policyReading(deps, l, true);
  const similar = !open && !!choice && lastAnswered === token && choice.skillId === history.at(-1)?.skillId && !history.some((h) => h.itemId === choice.itemId);
  return { estimates, overrides, similar };
}

/**
 * Records that the hints up to number `upTo` were shown, never fewer than before, so that a form posted
 * again counts none twice; the caller keeps `upTo` within the item's hints. An answered item's are not counted.
 */
export async function useHint(db: Db, l: Learner, token: string, upTo: number): Promise<void> {
  await db.updateTable('practice_presentation').set({ hints_used: upTo })
    .where('token', '=', token).where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id)
    .where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0)
    .where('answered_at', 'is', null).where('hints_used', '<', upTo).execute();
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
}

export interface ProgressWithTime extends Progress {
  /** Time spent answering, each item counted up to {@link MAX_ITEM_MS}. */
  timeSpentMs: number;
}

export async function progressOf(db: Db, l: Learner): Promise<Progress | undefined> {
  const p = await db.selectFrom('practice_progress').selectAll()
    .where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub).where('preview', '=', l.preview ? 1 : 0).executeTakeFirst();
  return p && { answered: p.answered, correct: p.correct, startedAt: p.started_at, completedAt: p.completed_at };
}

/** The progress with the time spent answering (the summary page's; a sum over the attempts). */
export async function progressWithTimeOf(db: Db, l: Learner): Promise<ProgressWithTime | undefined> {
  const p = await progressOf(db, l);
  if (!p) return undefined;
  const time = await db.selectFrom('attempt').select((eb) => eb.fn.sum<number>('duration_ms').as('ms'))
    .where('tenant_id', '=', l.tenantId).where('activity_id', '=', l.activity.id).where('user_sub', '=', l.userSub)
    .where('preview', '=', l.preview ? 1 : 0).executeTakeFirst();
  return { ...p, timeSpentMs: Number(time?.ms ?? 0) };
}

/** An item left open over a break counts as this long at most. */
export const MAX_ITEM_MS = 10 * 60_000;
