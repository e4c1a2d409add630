import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { activeModel, ModelCommandError, setActiveModel } from '../models';

export interface RollbackModelProps {
  /** The database; the command runs its own transaction. */
  db: Db;
  /** The tenant whose bank model is rolled back. */
  tenantId: number;
  /** The bank. */
  bankId: number;
  /** Who asked, for the audit log: 'cli', 'lti:<sub>', 'admin'. */
  actor: string;
}

/**
 * Marks the bank's active model 'rolled-back' and re-activates the version that was active before
 * it (the highest earlier version that was ever active and not itself rolled back); with none, the
 * cold-start estimator serves again. Repeated rollbacks walk further back.
 */
export async function rollbackModel(props: RollbackModelProps): Promise<{ fromVersion: number; toVersion: number | null }> {
  const { tenantId, bankId } = props;
  return props.db.transaction().execute(async (tx) => {
    const current = await activeModel(tx, tenantId, bankId);
    if (!current) throw new ModelCommandError(`bank ${bankId} of tenant ${tenantId} has no active model to roll back`);
    const previous = await tx.selectFrom('kt_model').select(['id', 'version'])
      .where('tenant_id', '=', tenantId).where('bank_id', '=', bankId)
      .where('version', '<', current.version).where('status', '=', 'retired').where('activated_at', 'is not', null)
      .orderBy('version', 'desc').executeTakeFirst();
    const now = Date.now();
    await setActiveModel(tx, tenantId, bankId, previous?.id ?? null, now);
    // Marked so that a later rollback does not bring it back.
    await tx.updateTable('kt_model').set({ status: 'rolled-back' }).where('id', '=', current.id).execute();
    const result = { fromVersion: current.version, toVersion: previous?.version ?? null };
    await audit(tx, { tenantId, actor: props.actor, action: 'kt.model.rolled-back', subject: `bank:${bankId}`, at: now, details: result });
    return result;
  });
}
