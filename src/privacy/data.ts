import type { Db } from '../db/schema';
import { toCsv } from '../teacher/csv';

/**
 * Whose learner data an export or erasure covers: one student (in one course or the whole tenant),
 * one course, or a whole tenant (deployment). Every query below names the tenant.
 */
export interface LearnerScope {
  tenantId: number;
  /** One course; absent = every course of the tenant. */
  contextId?: string | null;
  /** One student (LTI `sub`); absent = every student of the scope. */
  userSub?: string | null;
}

/** Tables that hold learner data, each keyed by tenant, course and user. */
const COURSE_TABLES = ['attempt', 'kt_state', 'score_outbox', 'practice_presentation', 'practice_progress', 'launch_session', 'student_group'] as const;
/** Every table an erasure empties for the scope, in the order it deletes them (presentations point at attempts). */
export const LEARNER_TABLES = ['practice_presentation', 'attempt', 'kt_state', 'score_outbox', 'practice_progress', 'student_override', 'launch_session', 'student_group', 'privacy_notice', 'roster_cache'] as const;
export type LearnerTable = (typeof LEARNER_TABLES)[number];
export type TableCounts = Record<LearnerTable, number>;

const courseRows = (db: Db, table: (typeof COURSE_TABLES)[number], s: LearnerScope) => {
  let q = db.selectFrom(table).where('tenant_id', '=', s.tenantId);
  if (s.contextId != null) q = q.where('context_id', '=', s.contextId);
  if (s.userSub != null) q = q.where('user_sub', '=', s.userSub);
  return q;
};

/** Overrides are keyed by activity; an activity belongs to one course. */
const overrideRows = (db: Db, s: LearnerScope) => {
  let q = db.selectFrom('student_override').where('tenant_id', '=', s.tenantId);
  if (s.contextId != null) {
    const contextId = s.contextId;
    q = q.where('activity_id', 'in', db.selectFrom('activity').select('id').where('tenant_id', '=', s.tenantId).where('context_id', '=', contextId));
  }
  if (s.userSub != null) q = q.where('user_sub', '=', s.userSub);
  return q;
};

/**
 * The first-launch notice is remembered per tenant and user, not per course: it goes with a student
 * erased from the whole tenant, or with the whole tenant, never with one course.
 */
const noticeApplies = (s: LearnerScope) => s.contextId == null;

interface RosterEntry { userId: string }

/** How many rows of each learner table the scope covers (the confirmation step shows them; tests compare them). */
export async function learnerDataCounts(db: Db, s: LearnerScope): Promise<TableCounts> {
  const n = (r: { n: number | string | bigint }) => Number(r.n);
  const out = {} as TableCounts;
  for (const t of COURSE_TABLES) out[t] = n(await courseRows(db, t, s).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow());
  out.student_override = n(await overrideRows(db, s).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow());
  out.privacy_notice = noticeApplies(s) ? n(await noticeRows(db, s).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()) : 0;
  out.roster_cache = (await rosterCaches(db, s)).reduce((n, r) => n + r.members.filter((m) => s.userSub == null || m.userId === s.userSub).length, 0);
  return out;
}

const noticeRows = (db: Db, s: LearnerScope) => {
  let q = db.selectFrom('privacy_notice').where('tenant_id', '=', s.tenantId);
  if (s.userSub != null) q = q.where('user_sub', '=', s.userSub);
  return q;
};

async function rosterCaches(db: Db, s: LearnerScope) {
  let q = db.selectFrom('roster_cache').select(['context_id', 'members']).where('tenant_id', '=', s.tenantId);
  if (s.contextId != null) q = q.where('context_id', '=', s.contextId);
  return (await q.execute()).map((r) => ({ contextId: r.context_id, members: JSON.parse(r.members) as RosterEntry[] }));
}

/** A model whose training data included erased answers. */
export interface MarkedModel { modelId: number; bankId: number }

/**
 * Deletes the scope's learner data and marks for retraining every model of the tenant trained after
 * the scope's first answer on its bank (it may have learnt from them). Run inside the caller's
 * transaction, which also writes the audit row.
 */
export async function eraseLearnerData(tx: Db, s: LearnerScope): Promise<{ counts: TableCounts; modelsMarked: MarkedModel[] }> {
  const counts = await learnerDataCounts(tx, s);
  let firstAnswers = tx.selectFrom('attempt').innerJoin('activity', 'activity.id', 'attempt.activity_id')
    .select(['activity.bank_id as bankId', (eb) => eb.fn.min('attempt.created_at').as('first')])
    .where('attempt.tenant_id', '=', s.tenantId).where('attempt.preview', '=', 0).groupBy('activity.bank_id');
  if (s.contextId != null) firstAnswers = firstAnswers.where('attempt.context_id', '=', s.contextId);
  if (s.userSub != null) firstAnswers = firstAnswers.where('attempt.user_sub', '=', s.userSub);
  const modelsMarked: MarkedModel[] = [];
  for (const { bankId, first } of await firstAnswers.execute()) {
    // Read, then marked by id: MySQL has no UPDATE … RETURNING.
    const marked = await tx.selectFrom('kt_model').select('id')
      .where('tenant_id', '=', s.tenantId).where('bank_id', '=', bankId).where('created_at', '>=', Number(first)).execute();
    if (marked.length) await tx.updateTable('kt_model').set({ retrain_needed: 1 }).where('id', 'in', marked.map((m) => m.id)).execute();
    modelsMarked.push(...marked.map((m) => ({ modelId: m.id, bankId })));
  }

  for (const t of COURSE_TABLES) {
    let q = tx.deleteFrom(t).where('tenant_id', '=', s.tenantId);
    if (s.contextId != null) q = q.where('context_id', '=', s.contextId);
    if (s.userSub != null) q = q.where('user_sub', '=', s.userSub);
    await q.execute();
  }
  const overrides = overrideRows(tx, s).select(['activity_id', 'user_sub']);
  for (const o of await overrides.execute()) {
    await tx.deleteFrom('student_override').where('tenant_id', '=', s.tenantId).where('activity_id', '=', o.activity_id).where('user_sub', '=', o.user_sub).execute();
  }
  if (noticeApplies(s)) {
    let q = tx.deleteFrom('privacy_notice').where('tenant_id', '=', s.tenantId);
    if (s.userSub != null) q = q.where('user_sub', '=', s.userSub);
    await q.execute();
  }
  // The roster cache holds a whole course per row: a student is cut out of it, a course or tenant drops it.
  for (const r of await rosterCaches(tx, s)) {
    const q = tx.deleteFrom('roster_cache').where('tenant_id', '=', s.tenantId).where('context_id', '=', r.contextId);
    if (s.userSub == null) await q.execute();
    else if (r.members.some((m) => m.userId === s.userSub)) {
      await tx.updateTable('roster_cache').set({ members: JSON.stringify(r.members.filter((m) => m.userId !== s.userSub)) })
        .where('tenant_id', '=', s.tenantId).where('context_id', '=', r.contextId).execute();
    }
  }
  return { counts, modelsMarked };
}

/** Everything Jejak holds about one student, table by table, as the export gives it. */
export type StudentData = {
  tenantId: number;
  userSub: string;
  contextId: string | null;
  exportedAt: string;
  tables: Record<string, Record<string, unknown>[]>;
};

/** Reads one student's data (in one course or the whole tenant). Session ids and cookie bindings are credentials and are left out. */
export async function studentData(db: Db, s: LearnerScope & { userSub: string }, now: number): Promise<StudentData> {
  const time = (v: number | null) => (v === null ? null : new Date(Number(v)).toISOString());
  const attempts = await courseRows(db, 'attempt', s).innerJoin('item', 'item.id', 'attempt.item_id')
    .select(['attempt.id', 'attempt.context_id', 'attempt.activity_id', 'item.code as item', 'attempt.skill_ids', 'attempt.response', 'attempt.correct', 'attempt.hints_used', 'attempt.duration_ms', 'attempt.preview', 'attempt.created_at'])
    .orderBy('attempt.created_at').orderBy('attempt.id').execute();
  const states = await courseRows(db, 'kt_state', s).select(['context_id', 'bank_id', 'model_key', 'steps', 'state', 'updated_at']).execute();
  const scores = await courseRows(db, 'score_outbox', s)
    .select(['context_id', 'activity_id', 'score_given', 'score_maximum', 'activity_progress', 'grading_progress', 'status', 'delivered_at', 'updated_at']).execute();
  const presentations = await courseRows(db, 'practice_presentation', s)
    .select(['context_id', 'activity_id', 'item_id', 'skill_id', 'reason', 'hints_used', 'solution_shown', 'presented_at', 'answered_at', 'attempt_id', 'preview']).orderBy('presented_at').execute();
  const progress = await courseRows(db, 'practice_progress', s).select(['context_id', 'activity_id', 'preview', 'answered', 'correct', 'started_at', 'completed_at', 'updated_at']).execute();
  const sessions = await courseRows(db, 'launch_session', s).select(['context_id', 'roles', 'message_type', 'locale', 'created_at', 'expires_at']).execute();
  const groups = await courseRows(db, 'student_group', s).select(['context_id', 'group_name']).execute();
  const overrides = await overrideRows(db, s).select(['activity_id', 'unlocked_skills', 'skipped_skills', 'fixed_order', 'updated_by', 'updated_at']).execute();
  const notices = noticeApplies(s) ? await noticeRows(db, s).select(['shown_at']).execute() : [];
  let auditRows = db.selectFrom('audit_event').select(['created_at', 'context_id', 'actor', 'action', 'subject']).where('tenant_id', '=', s.tenantId);
  // One course's export (a teacher's) holds what the student did in that course, not what they did
  // elsewhere nor what teachers did; the whole tenant's (the student's own) also says who read or changed their data.
  auditRows = s.contextId != null
    ? auditRows.where('context_id', '=', s.contextId).where('actor', '=', `lti:${s.userSub}`)
    : auditRows.where((eb) => eb.or([eb('actor', '=', `lti:${s.userSub}`), eb('subject', '=', `user:${s.userSub}`)]));
  const audits = await auditRows.orderBy('created_at').orderBy('id').execute();
  return {
    tenantId: s.tenantId, userSub: s.userSub, contextId: s.contextId ?? null, exportedAt: new Date(now).toISOString(),
    tables: {
      attempts: attempts.map((a) => ({ ...a, skill_ids: JSON.parse(a.skill_ids), response: JSON.parse(a.response), created_at: time(a.created_at) })),
      knowledge_states: states.map((k) => ({ ...k, state: Buffer.from(k.state).toString('base64'), updated_at: time(k.updated_at) })),
      scores: scores.map((r) => ({ ...r, delivered_at: time(r.delivered_at), updated_at: time(r.updated_at) })),
      items_shown: presentations.map((p) => ({ ...p, reason: JSON.parse(p.reason), presented_at: time(p.presented_at), answered_at: time(p.answered_at) })),
      progress: progress.map((p) => ({ ...p, started_at: time(p.started_at), completed_at: time(p.completed_at), updated_at: time(p.updated_at) })),
      teacher_overrides: overrides.map((o) => ({ ...o, unlocked_skills: JSON.parse(o.unlocked_skills), skipped_skills: JSON.parse(o.skipped_skills), updated_at: time(o.updated_at) })),
      launches: sessions.map((l) => ({ ...l, roles: JSON.parse(l.roles), created_at: time(l.created_at), expires_at: time(l.expires_at) })),
      groups,
      privacy_notice: notices.map((n) => ({ shown_at: time(n.shown_at) })),
      audit_log: audits.map((e) => ({ ...e, created_at: time(e.created_at) })),
    },
  };
}

/** The export as one CSV in long form (table, row, field, value): every table fits one sheet. */
export function studentDataCsv(data: StudentData): string {
  const rows: (string | number | null)[][] = [['table', 'row', 'field', 'value']];
  for (const [table, list] of Object.entries(data.tables)) {
    list.forEach((row, i) => {
      for (const [field, value] of Object.entries(row)) {
        rows.push([table, i + 1, field, value === null ? null : typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value)]);
      }
    });
  }
  return toCsv(rows);
}
