import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { eraseLearnerData, type MarkedModel, type TableCounts } from '../data';

export interface EraseStudentProps {
  db: Db;
  tenantId: number;
  /** The student's LTI user id (`sub`). */
  userSub: string;
  /** Only this course; null or absent = the student everywhere in the tenant. */
  contextId?: string | null;
  /** Who asked, for the audit log: 'lti:<sub>', 'admin', 'cli'. */
  actor: string;
}

export interface ErasureResult {
  /** Rows removed per table. */
  counts: TableCounts;
  /** Models trained on the erased answers, now marked for retraining. */
  modelsMarked: MarkedModel[];
}

/**
 * Erases one student's learner data (attempts, knowledge states, scores waiting for the gradebook, items
 * shown, progress, overrides, sessions, group, notice, roster cache entry) and marks the models trained
 * on it, with the audit row, in one transaction.
 */
export async function eraseStudent(props: EraseStudentProps): Promise<ErasureResult> {
  const { tenantId, userSub } = props;
  const contextId = props.contextId ?? null;
  return props.db.transaction().execute(async (tx) => {
    const result = await eraseLearnerData(tx, { tenantId, contextId, userSub });
    // The row names the student only by the pseudonymous LTI id, never a name or an answer: it must
    // prove the erasure happened (and answer "was this student erased?") without keeping what was erased.
    await audit(tx, {
      tenantId, contextId, actor: props.actor, action: 'privacy.erased.student', subject: `user:${userSub}`, at: Date.now(),
      details: { counts: result.counts, modelsMarked: result.modelsMarked.map((m) => m.modelId) },
    });
    return result;
  });
}
