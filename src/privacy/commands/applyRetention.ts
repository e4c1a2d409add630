import type { Db } from '../../db/schema';
import { upsert } from '../../db/writes';
import { audit } from '../../db/audit';

export interface ApplyRetentionProps {
  db: Db;
  /** Attempts older than this many days go; 0 keeps everything (nothing is done). */
  retentionDays: number;
  /** Who runs it, for the audit log: 'system' (the daily timer), 'cli'. */
  actor: string;
  /** The present, epoch ms (tests). */
  now?: number;
}

export interface RetentionResult {
  cutoff: number | null;
  attemptsRemoved: number;
  presentationsRemoved: number;
}

/**
 * Retention: attempts older than the period are AGGREGATED then deleted. Their counts (answers, right
 * answers, hints, time) are added to attempt_aggregate per tenant, course, activity and item, so item
 * difficulty and timing statistics stay meaningful without per-student rows; the answered items shown
 * with them go too. Knowledge states are kept (they are the student's current estimate, not a history).
 * One transaction with the audit row.
 */
export async function applyRetention(props: ApplyRetentionProps): Promise<RetentionResult> {
  const now = props.now ?? Date.now();
  if (props.retentionDays <= 0) return { cutoff: null, attemptsRemoved: 0, presentationsRemoved: 0 };
  const cutoff = now - props.retentionDays * 86_400_000;
  return props.db.transaction().execute(async (tx) => {
    const totals = await tx.selectFrom('attempt')
      .select(['tenant_id', 'context_id', 'activity_id', 'item_id', (eb) => eb.fn.countAll().as('answers'), (eb) => eb.fn.sum('correct').as('correct'),
        (eb) => eb.fn.sum('hints_used').as('hints'), (eb) => eb.fn.sum('duration_ms').as('ms')])
      .where('created_at', '<', cutoff).where('preview', '=', 0)
      .groupBy(['tenant_id', 'context_id', 'activity_id', 'item_id']).execute();
    for (const t of totals) {
      const add = { answers: Number(t.answers), correct: Number(t.correct), hints_used: Number(t.hints), duration_ms: Number(t.ms) };
      await upsert(tx, 'attempt_aggregate', { tenant_id: t.tenant_id, context_id: t.context_id, activity_id: t.activity_id, item_id: t.item_id, ...add, updated_at: now },
        ['tenant_id', 'context_id', 'activity_id', 'item_id'], (eb) => ({
          answers: eb('attempt_aggregate.answers', '+', add.answers), correct: eb('attempt_aggregate.correct', '+', add.correct),
          hints_used: eb('attempt_aggregate.hints_used', '+', add.hints_used), duration_ms: eb('attempt_aggregate.duration_ms', '+', add.duration_ms), updated_at: now,
        }));
    }
    const presentations = await tx.deleteFrom('practice_presentation').where('answered_at', 'is not', null).where('answered_at', '<', cutoff).executeTakeFirst();
    const attempts = await tx.deleteFrom('attempt').where('created_at', '<', cutoff).executeTakeFirst();
    const result = { cutoff, attemptsRemoved: Number(attempts.numDeletedRows), presentationsRemoved: Number(presentations.numDeletedRows) };
    await audit(tx, { tenantId: null, actor: props.actor, action: 'privacy.retention.applied', subject: null, at: now, details: { retentionDays: props.retentionDays, ...result } });
    return result;
  });
}
