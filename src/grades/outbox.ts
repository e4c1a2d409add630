import { z } from 'zod';
import type { Db } from '../db/schema';
import { CLAIM } from '../lti/claims';
import { ActivityProgress, GradingProgress } from './ags';

export const ScoreChange = z.object({
  tenantId: z.number().int(),
  contextId: z.string().min(1),
  activityId: z.number().int(),
  /** The student's LTI `sub`: the AGS userId. */
  userSub: z.string().min(1),
  scoreGiven: z.number().min(0),
  scoreMaximum: z.number().positive(),
  activityProgress: ActivityProgress,
  /**
   * FullyGraded for every grade the gradebook is to show, running grades included: Moodle stores
   * `scoreGiven` only then. Pending empties the gradebook cell (a reset: no grade yet).
   */
  gradingProgress: GradingProgress,
  /** ISO 8601: when the score was reached (the attempt's time). */
  timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'must be an ISO 8601 date-time'),
  /**
   * The AGS endpoint claim of the launch the answer came through (a launch of one of the activity's
   * links), as the platform sent it. Without it, the latest stored launch's claim is used.
   */
  endpoint: z.unknown().optional(),
});
export type ScoreChange = z.infer<typeof ScoreChange>;

const AgsClaim = z.object({ scope: z.array(z.string()), lineitems: z.string().url().optional(), lineitem: z.string().url().optional() }).loose();

/**
 * Records a student's new score for delivery to the gradebook. Call it inside the transaction that
 * records the attempt (`db` is that transaction): the score is durable exactly when the attempt is.
 * A score still waiting for the same student and activity is replaced (only the latest matters).
 *
 * Moodle refuses a score whose timestamp is not later, in whole seconds, than the grade it holds
 * (409), so a score replacing another is stamped at least one second after it.
 */
export async function enqueueScore(db: Db, change: ScoreChange): Promise<void> {
  const c = ScoreChange.parse(change);
  const now = Date.now();
  const existing = await db.selectFrom('score_outbox').select(['id', 'score_timestamp'])
    .where('tenant_id', '=', c.tenantId).where('activity_id', '=', c.activityId).where('user_sub', '=', c.userSub)
    .executeTakeFirst();
  let timestamp = Date.parse(c.timestamp);
  if (existing && Math.floor(timestamp / 1000) <= Math.floor(existing.score_timestamp / 1000)) {
    timestamp = (Math.floor(existing.score_timestamp / 1000) + 1) * 1000;
  }
  const own = AgsClaim.safeParse(c.endpoint);
  const ags = own.success ? own.data : await agsEndpointOf(db, c);
  const score = {
    score_given: c.scoreGiven,
    score_maximum: c.scoreMaximum,
    activity_progress: c.activityProgress,
    grading_progress: c.gradingProgress,
    score_timestamp: timestamp,
    status: 'pending',
    tries: 0,
    next_try_at: now,
    problem: null,
    problem_detail: null,
    line_item_url: ags?.lineitem ?? null,
    line_items_url: ags?.lineitems ?? null,
    ags_scopes: JSON.stringify(ags?.scope ?? []),
    updated_at: now,
  };
  if (existing) {
    await db.updateTable('score_outbox').set((eb) => ({ ...score, version: eb('version', '+', 1) })).where('id', '=', existing.id).execute();
  } else {
    await db.insertInto('score_outbox').values({
      tenant_id: c.tenantId, context_id: c.contextId, activity_id: c.activityId, user_sub: c.userSub,
      ...score, version: 1, lease_until: null, delivered_version: null, delivered_at: null,
    }).execute();
  }
}

/**
 * The AGS endpoint claim of the latest launch of this activity's resource links (it names their line
 * item), else of the latest launch in the course, whose line item belongs to another link and is
 * left out (its line items service and scopes serve the whole course).
 */
async function agsEndpointOf(db: Db, c: ScoreChange): Promise<z.infer<typeof AgsClaim> | undefined> {
  const links = db.selectFrom('activity_link').select('resource_link_id').where('tenant_id', '=', c.tenantId).where('activity_id', '=', c.activityId);
  const latest = db.selectFrom('launch_session').select('claims').where('tenant_id', '=', c.tenantId).where('context_id', '=', c.contextId).orderBy('created_at', 'desc');
  const claimOf = (row: { claims: string } | undefined) => {
    const parsed = row && AgsClaim.safeParse((JSON.parse(row.claims) as Record<string, unknown>)[CLAIM.agsEndpoint]);
    return parsed?.success ? parsed.data : undefined;
  };
  const own = claimOf(await latest.where('resource_link_id', 'in', links).executeTakeFirst());
  if (own) return own;
  const course = claimOf(await latest.executeTakeFirst());
  return course && { ...course, lineitem: undefined };
}
