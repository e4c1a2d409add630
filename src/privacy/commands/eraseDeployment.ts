import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { eraseLearnerData } from '../data';
import type { ErasureResult } from './eraseStudent';

export interface EraseDeploymentProps {
  db: Db;
  /** The deployment (tenant) whose learner data goes. */
  tenantId: number;
  /** Who asked, for the audit log: 'admin', 'cli'. */
  actor: string;
}

/**
 * Erases the learner data of every student of a deployment. The registration, activities and banks
 * stay (removing the platform is `platform remove`). Marks the tenant's models; one transaction with the audit row.
 */
export async function eraseDeployment(props: EraseDeploymentProps): Promise<ErasureResult> {
  const { tenantId } = props;
  return props.db.transaction().execute(async (tx) => {
    const result = await eraseLearnerData(tx, { tenantId });
    // Counts only: the row must not list the erased students.
    await audit(tx, {
      tenantId, actor: props.actor, action: 'privacy.erased.deployment', subject: `tenant:${tenantId}`, at: Date.now(),
      details: { counts: result.counts, modelsMarked: result.modelsMarked.map((m) => m.modelId) },
    });
    return result;
  });
}
