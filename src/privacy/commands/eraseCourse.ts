import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { eraseLearnerData } from '../data';
import type { ErasureResult } from './eraseStudent';

export interface EraseCourseProps {
  db: Db;
  tenantId: number;
  /** The course (LTI context id) whose learner data goes. */
  contextId: string;
  /** Who asked, for the audit log: 'admin', 'cli'. */
  actor: string;
}

/**
 * Erases the learner data of every student of one course; the course's activities and banks (the
 * teacher's work, no personal data) stay. Marks the models trained on it; one transaction with the audit row.
 */
export async function eraseCourse(props: EraseCourseProps): Promise<ErasureResult> {
  const { tenantId, contextId } = props;
  return props.db.transaction().execute(async (tx) => {
    const result = await eraseLearnerData(tx, { tenantId, contextId });
    // Counts only: the row must not list the erased students.
    await audit(tx, {
      tenantId, contextId, actor: props.actor, action: 'privacy.erased.course', subject: `course:${contextId}`, at: Date.now(),
      details: { counts: result.counts, modelsMarked: result.modelsMarked.map((m) => m.modelId) },
    });
    return result;
  });
}
