import type { Db } from '../db/schema';
import { isMastered, statusOf, type EstimateStatus, type SkillEstimate } from '../kt/estimate';
import type { KnowledgeTracer } from '../kt/tracer';
import { DEFAULT_POLICY, stuckState, type PolicyHistoryEntry } from '../practice/policy';
import { historyEntry } from '../practice/practice';
import { audienceOf } from '../lti/roles';
import { bankSkills, type Activity } from '../practice/activities';
import type { Locale } from '../web/i18n';
import { InvalidItem, loadItem, stemSummary } from '../content/item';
import type { Roster, RosterMember } from './roster';

/** When a flag is raised; the reasons shown name these numbers. */
export const FLAG_RULES = {
  /** Idle: launched (session still open) but no answer for this long. */
  idleMs: 5 * 60_000,
  /** At risk: after this many answers per skill of the activity… */
  riskAnswersPerSkill: 2,
  /** …fewer than this share of skills mastered and recent accuracy below… */
  riskMasteredShare: 0.5,
  riskRecentAccuracy: 0.6,
  /** …over the last this many answers. */
  recentWindow: 10,
} as const;

export type FlagKind = 'struggling' | 'idle' | 'not_started' | 'at_risk';
/** What a student's row asks of the teacher, most urgent first: the class list is in this order. */
export const STATES = ['struggling', 'at_risk', 'idle', 'not_started', 'working', 'finished'] as const;
export type StudentState = (typeof STATES)[number];
export interface Flag {
  kind: FlagKind;
  /** Numbers for the reason text (skill name, answers, percentages, minutes). */
  why: Record<string, string | number>;
}

export interface SkillCell {
  skillId: number;
  /** The estimate's p (src/kt/estimate.ts), or null while the student has not tried the skill. */
  mastery: number | null;
  estimate: SkillEstimate | null;
  status: EstimateStatus;
  /** Times the practice paused the skill because the student was stuck on it (src/practice/policy.ts stuckState). */
  pauses: number;
  attempts: number;
}

export interface StudentRow {
  userSub: string;
  /** Name from the LMS when it shares them; undefined means show the pseudonym. */
  name?: string;
  cells: SkillCell[];
  answered: number;
  correct: number;
  lastAnswerAt: number | null;
  goalReached: boolean;
  /** The practice ended for the student (goal reached or the activity's length done). */
  finished: boolean;
  flags: Flag[];
  /** The most urgent flag, else working or finished. */
  state: StudentState;
}

export interface SkillSummary {
  skillId: number;
  name: string;
  /** Mean estimate of the students who tried the skill, null when none did. */
  classMastery: number | null;
  masteredBy: number;
  attempts: number;
  accuracy: number | null;
}

export interface ItemSummary {
  itemId: number;
  code: string;
  /** The start of the item's question as plain text, null when the item cannot be read. */
  stem: string | null;
  skillIds: number[];
  attempts: number;
  success: number;
  /** Share of wrong answers among the students who have reached the goal on the item's skills (null when none answered it). */
  strongMiss: number | null;
  medianMs: number;
}

export interface ClassView {
  activity: Activity;
  skills: { id: number; name: string }[];
  students: StudentRow[];
  skillSummaries: SkillSummary[];
  /** Skills from lowest class mastery. */
  hardestSkills: SkillSummary[];
  /** Items with low success, or missed by strong students; hardest first. */
  troubleItems: ItemSummary[];
  items: ItemSummary[];
  /** Students stuck on the same skill, most students first, each with the skill's hardest item for the class. */
  stuckGroups: StuckGroup[];
  /** False when the LMS roster could not be had: students who never launched are then unknown. */
  rosterKnown: boolean;
}

export interface StuckGroup {
  skillId: number;
  name: string;
  students: StudentRow[];
  /** The skill's item with the lowest success in the class, to reteach with; null when none was answered. */
  item: ItemSummary | null;
}

export interface ClassViewDeps {
  db: Db;
  tracer: KnowledgeTracer;
  roster: Roster;
}

/**
 * Everything the class view shows, computed from the attempts, the tracer's mastery, the open
 * launch sessions and the LMS roster.
 */
export async function classView(deps: ClassViewDeps, launch: { tenantId: number; contextId: string; claims: Record<string, any> }, activity: Activity, locale: Locale, now = Date.now()): Promise<ClassView> {
  const { db } = deps;
  const bank = await bankSkills(db, activity.bankId, locale);
  const skills = activity.settings.skillIds.map((id) => ({ id, name: bank.find((s) => s.id === id)?.name ?? `#${id}` }));
  const threshold = activity.settings.masteryThreshold;
  const attempts = await db.selectFrom('attempt').innerJoin('item', 'item.id', 'attempt.item_id')
    .select(['attempt.user_sub', 'attempt.item_id', 'item.code', 'attempt.skill_ids', 'attempt.correct', 'attempt.duration_ms', 'attempt.created_at'])
    .where('attempt.tenant_id', '=', launch.tenantId).where('attempt.context_id', '=', launch.contextId)
    .where('attempt.activity_id', '=', activity.id).where('attempt.preview', '=', 0)
    .orderBy('attempt.created_at').orderBy('attempt.id').execute();
  const links = db.selectFrom('activity_link').select('resource_link_id').where('tenant_id', '=', launch.tenantId).where('activity_id', '=', activity.id);
  const sessions = await db.selectFrom('launch_session').select(['user_sub', 'roles', 'created_at'])
    .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId)
    .where('resource_link_id', 'in', links).where('expires_at', '>', now).execute();
  const roster: RosterMember[] | undefined = await deps.roster.members(launch, now);

  const launchedAt = new Map<string, number>();
  for (const s of sessions) {
    if (audienceOf(JSON.parse(s.roles) as string[]) !== 'student') continue;
    launchedAt.set(s.user_sub, Math.max(launchedAt.get(s.user_sub) ?? 0, s.created_at));
  }
  const byStudent = new Map<string, typeof attempts>();
  for (const a of attempts) byStudent.set(a.user_sub, [...(byStudent.get(a.user_sub) ?? []), a]);
  const subs = new Set<string>([...byStudent.keys(), ...launchedAt.keys()]);
  for (const m of roster ?? []) if (m.isLearner && m.status !== 'Inactive') subs.add(m.userId);
  const started = [...byStudent.keys()];
  const estimates = started.length ? await deps.tracer.classEstimates(launch.tenantId, launch.contextId, activity.bankId, started) : new Map<string, Map<number, SkillEstimate>>();
  const histories = await policyHistories(db, launch, activity.id);
  const names = new Map((roster ?? []).map((m) => [m.userId, m.name]));
  const finished = new Set((await db.selectFrom('practice_progress').select('user_sub')
    .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).where('activity_id', '=', activity.id)
    .where('preview', '=', 0).where('completed_at', 'is not', null).execute()).map((p) => p.user_sub));

  const students: StudentRow[] = [...subs].map((sub) => {
    const mine = byStudent.get(sub) ?? [];
    const cells = skills.map((s): SkillCell => {
      const e = estimates.get(sub)?.get(s.id);
      const status = statusOf(e, threshold);
      const tried = status === 'not_tried' ? null : e!;
      return {
        skillId: s.id, mastery: tried && tried.p, estimate: tried, status,
        pauses: stuckState(s.id, histories.get(sub) ?? [], e?.p ?? 0, status === 'mastered', DEFAULT_POLICY).pauses,
        attempts: mine.filter((a) => (JSON.parse(a.skill_ids) as number[]).includes(s.id)).length,
      };
    });
    const correct = mine.filter((a) => a.correct === 1).length;
    const lastAnswerAt = mine.length ? mine[mine.length - 1].created_at : null;
    const mastered = cells.filter((c) => c.status === 'mastered').length;
    const row: StudentRow = { userSub: sub, name: names.get(sub), cells, answered: mine.length, correct, lastAnswerAt, goalReached: mine.length > 0 && mastered === skills.length, finished: finished.has(sub), flags: [], state: 'working' };
    row.flags = flagsOf(row, skills, launchedAt.get(sub), mine.slice(-FLAG_RULES.recentWindow).map((a) => a.correct === 1), now);
    row.state = STATES.find((k) => row.flags.some((f) => f.kind === k)) ?? (row.finished ? 'finished' : 'working');
    return row;
  }).sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state)
    || (a.name ?? a.userSub).localeCompare(b.name ?? b.userSub, undefined, { numeric: true }));

  const startedRows = students.filter((s) => s.answered > 0);
  const skillSummaries: SkillSummary[] = skills.map((s, i) => {
    const tried = startedRows.map((r) => r.cells[i]).filter((c) => c.mastery !== null);
    const values = tried.map((c) => c.mastery!);
    const onSkill = attempts.filter((a) => (JSON.parse(a.skill_ids) as number[]).includes(s.id));
    return {
      skillId: s.id, name: s.name,
      classMastery: values.length ? values.reduce((x, y) => x + y, 0) / values.length : null,
      masteredBy: tried.filter((c) => c.status === 'mastered').length,
      attempts: onSkill.length,
      accuracy: onSkill.length ? onSkill.filter((a) => a.correct === 1).length / onSkill.length : null,
    };
  });
  const hardestSkills = skillSummaries.filter((s) => s.classMastery !== null).sort((a, b) => a.classMastery! - b.classMastery!);

  // "Strong" on an item: the student has reached the goal on every skill the item practises.
  const strongOn = (sub: string, skillIds: number[]) => skillIds.every((id) => isMastered(estimates.get(sub)?.get(id), threshold));
  const itemIds = [...new Set(attempts.map((a) => a.item_id))];
  const stems = await itemStems(db, itemIds, locale);
  const items: ItemSummary[] = itemIds.map((itemId) => {
    const on = attempts.filter((a) => a.item_id === itemId);
    const strong = on.filter((a) => strongOn(a.user_sub, JSON.parse(a.skill_ids) as number[]));
    return {
      itemId, code: on[0].code, stem: stems.get(itemId) ?? null, skillIds: JSON.parse(on[0].skill_ids) as number[], attempts: on.length,
      success: on.filter((a) => a.correct === 1).length / on.length,
      strongMiss: strong.length ? strong.filter((a) => a.correct === 0).length / strong.length : null,
      medianMs: median(on.map((a) => a.duration_ms)),
    };
  }).sort((a, b) => a.success - b.success || b.attempts - a.attempts);
  const troubleItems = items.filter((i) => (i.attempts >= 3 && i.success < 0.5) || (i.strongMiss !== null && i.strongMiss >= 0.5));
  // items are hardest first: a skill's first item is its lowest success.
  const stuckGroups: StuckGroup[] = skills.map((s) => ({
    skillId: s.id, name: s.name,
    students: students.filter((r) => r.flags.some((f) => f.kind === 'struggling' && f.why.skillId === s.id)),
    item: items.find((i) => i.skillIds.includes(s.id)) ?? null,
  })).filter((g) => g.students.length).sort((a, b) => b.students.length - a.students.length);
  return { activity, skills, students, skillSummaries, hardestSkills, troubleItems, items, stuckGroups, rosterKnown: roster !== undefined };
}

/** Each item's question as a short plain text in the viewer's language; an unreadable item is left out (its code still shows). */
async function itemStems(db: Db, itemIds: number[], locale: Locale): Promise<Map<number, string>> {
  const rows = itemIds.length ? await db.selectFrom('item').select(['id', 'bank_id', 'code', 'kind', 'body']).where('id', 'in', itemIds).execute() : [];
  const out = new Map<number, string>();
  for (const row of rows) {
    try {
      out.set(row.id, stemSummary(loadItem(row), locale));
    } catch (e) {
      if (!(e instanceof InvalidItem)) throw e;
    }
  }
  return out;
}

/** Each student's answered presentations of the activity as the policy reads them (for its pauses), oldest first. */
async function policyHistories(db: Db, launch: { tenantId: number; contextId: string }, activityId: number): Promise<Map<string, PolicyHistoryEntry[]>> {
  const rows = await db.selectFrom('practice_presentation').select(['user_sub', 'item_id', 'skill_id', 'reason'])
    .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).where('activity_id', '=', activityId)
    .where('preview', '=', 0).where('answered_at', 'is not', null)
    .orderBy('answered_at').orderBy('presented_at').execute();
  const out = new Map<string, PolicyHistoryEntry[]>();
  for (const r of rows) {
    let list = out.get(r.user_sub);
    if (!list) out.set(r.user_sub, (list = []));
    list.push(historyEntry(r));
  }
  return out;
}

function flagsOf(row: StudentRow, skills: { id: number; name: string }[], launchedAt: number | undefined, recent: boolean[], now: number): Flag[] {
  const flags: Flag[] = [];
  const lastSeen = Math.max(row.lastAnswerAt ?? 0, launchedAt ?? 0);
  if (row.answered === 0) {
    if (launchedAt === undefined) flags.push({ kind: 'not_started', why: {} });
    else if (now - launchedAt >= FLAG_RULES.idleMs) flags.push({ kind: 'idle', why: { minutes: Math.floor((now - launchedAt) / 60_000) } });
    return flags;
  }
  // A student whose practice has ended (25 of 25 answered) is done, not idle.
  if (launchedAt !== undefined && !row.goalReached && !row.finished && now - lastSeen >= FLAG_RULES.idleMs) {
    flags.push({ kind: 'idle', why: { minutes: Math.floor((now - lastSeen) / 60_000) } });
  }
  // Struggling is what the practice decided: it paused the skill (the student saw the "ask your teacher" notice) and it is not mastered since.
  row.cells.forEach((c, i) => {
    if (c.pauses > 0 && c.status !== 'mastered') {
      flags.push({ kind: 'struggling', why: { skillId: skills[i].id, skill: skills[i].name, answers: c.attempts, pauses: c.pauses, mastery: pct(c.mastery ?? 0) } });
    }
  });
  const mastered = row.cells.filter((c) => c.status === 'mastered').length;
  const accuracy = recent.filter(Boolean).length / recent.length;
  if (!row.goalReached && row.answered >= FLAG_RULES.riskAnswersPerSkill * skills.length
    && mastered < FLAG_RULES.riskMasteredShare * skills.length && accuracy < FLAG_RULES.riskRecentAccuracy) {
    flags.push({ kind: 'at_risk', why: { mastered, skills: skills.length, answers: row.answered, accuracy: pct(accuracy) } });
  }
  return flags;
}

export function pct(p: number): number {
  return Math.round(p * 100);
}

export function median(values: number[]): number {
  if (!values.length) return 0;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
