import type { Db } from '../db/schema';
import { compareCell, type Agreement, type GradebookCell, type Gradebooks, type UnreadableReason } from './gradebook';

/** An activity of a course, as the teacher's launch names it. */
export interface ActivityScope {
  tenantId: number;
  contextId: string;
  activityId: number;
}

/** One student's latest score: what Jejak sent, what became of it, and what the gradebook shows. */
export interface GradeLine {
  userSub: string;
  scoreGiven: number;
  scoreMaximum: number;
  gradingProgress: string;
  /** 'pending', 'delivered' or 'failed'. */
  status: string;
  deliveredAt: number | null;
  /** Failed tries of a score still waiting. */
  tries: number;
  problem: string | null;
  problemDetail: string | null;
  /** The gradebook's cell; undefined when it could not be read (see `unreadable`) or holds nothing. */
  cell: GradebookCell | undefined;
  /** Undefined when the gradebook could not be read. */
  agreement: Agreement | undefined;
  /** Why the gradebook could not be read for this student. */
  unreadable?: { why: UnreadableReason; detail: string };
}

/**
 * Each student's latest score in the activity beside what the LMS gradebook shows now (read back
 * through AGS results, cached briefly by `gradebooks`). `userSub` narrows it to one student.
 */
export async function gradeReport(db: Db, gradebooks: Gradebooks, a: ActivityScope, o: { userSub?: string; fresh?: boolean } = {}): Promise<{ lines: GradeLine[]; readAt: number | null }> {
  const activity = await db.selectFrom('activity').select('line_item_url').where('id', '=', a.activityId).where('tenant_id', '=', a.tenantId).executeTakeFirstOrThrow();
  let q = db.selectFrom('score_outbox').selectAll()
    .where('tenant_id', '=', a.tenantId).where('context_id', '=', a.contextId).where('activity_id', '=', a.activityId);
  if (o.userSub !== undefined) q = q.where('user_sub', '=', o.userSub);
  const rows = await q.orderBy('user_sub').execute();
  let readAt: number | null = null;
  const lines: GradeLine[] = [];
  for (const row of rows) {
    // The sender posts to the activity's line item, else to the one the student's launch named.
    const reading = await gradebooks.read(a.tenantId, activity.line_item_url ?? row.line_item_url, JSON.parse(row.ags_scopes) as string[], { fresh: o.fresh });
    const sent = { status: row.status, scoreGiven: row.score_given, scoreMaximum: row.score_maximum, gradingProgress: row.grading_progress };
    const cell = reading.readable ? reading.cells.get(row.user_sub) : undefined;
    if (reading.readable) readAt = Math.max(readAt ?? 0, reading.at);
    lines.push({
      userSub: row.user_sub, ...sent, deliveredAt: row.delivered_at, tries: row.tries, problem: row.problem, problemDetail: row.problem_detail,
      cell, agreement: reading.readable ? compareCell(sent, cell) : undefined,
      unreadable: reading.readable ? undefined : { why: reading.why, detail: reading.detail },
    });
  }
  return { lines, readAt };
}

/**
 * The score Jejak last queued for one student's gradebook cell (the one the sender delivers), or
 * undefined when none was: no answer yet, a preview, or a reset that emptied the cell (Pending).
 */
export async function latestScore(db: Db, a: ActivityScope & { userSub: string }): Promise<{ scoreGiven: number; scoreMaximum: number } | undefined> {
  const row = await db.selectFrom('score_outbox').select(['score_given', 'score_maximum', 'grading_progress'])
    .where('tenant_id', '=', a.tenantId).where('context_id', '=', a.contextId).where('activity_id', '=', a.activityId).where('user_sub', '=', a.userSub)
    .executeTakeFirst();
  return row && row.grading_progress === 'FullyGraded' ? { scoreGiven: row.score_given, scoreMaximum: row.score_maximum } : undefined;
}

/** How many of the activity's latest scores are delivered, waiting and given up, from the outbox alone (no LMS request). */
export async function gradeCounts(db: Db, a: ActivityScope): Promise<{ delivered: number; pending: number; failed: number; lastDeliveredAt: number | null }> {
  const rows = await db.selectFrom('score_outbox')
    .select((eb) => ['status', eb.fn.countAll<string | number>().as('n'), eb.fn.max('delivered_at').as('last')])
    .where('tenant_id', '=', a.tenantId).where('context_id', '=', a.contextId).where('activity_id', '=', a.activityId)
    .groupBy('status').execute();
  const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  const last = rows.find((r) => r.status === 'delivered')?.last;
  return { delivered: count('delivered'), pending: count('pending'), failed: count('failed'), lastDeliveredAt: last == null ? null : Number(last) };
}
