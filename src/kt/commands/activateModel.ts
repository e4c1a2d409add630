import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { activeModel, ModelCommandError, setActiveModel } from '../models';

export interface ActivateModelProps {
  /** The database; the command runs its own transaction. */
  db: Db;
  /** The tenant the model belongs to. */
  tenantId: number;
  /** The bank the model serves. */
  bankId: number;
  /** The model version's row id (kt_model.id). */
  modelId: number;
  /** Who asked, for the audit log: 'cli', 'lti:<sub>', 'admin'. */
  actor: string;
}

/**
 * Makes a model the bank's active one, whatever its validation AUC (an operator's decision; the
 * previous one is retired). Students' states under it are rebuilt from their history on first use.
 */
export async function activateModel(props: ActivateModelProps): Promise<{ version: number; previousVersion: number | null }> {
  const { tenantId, bankId, modelId } = props;
  return props.db.transaction().execute(async (tx) => {
    const model = await tx.selectFrom('kt_model').select(['version']).where('id', '=', modelId)
      .where('tenant_id', '=', tenantId).where('bank_id', '=', bankId).executeTakeFirst();
    if (!model) throw new ModelCommandError(`tenant ${tenantId} has no model ${modelId} for bank ${bankId}`);
    const previous = await activeModel(tx, tenantId, bankId);
    const now = Date.now();
    await setActiveModel(tx, tenantId, bankId, modelId, now);
    await audit(tx, {
      tenantId, actor: props.actor, action: 'kt.model.activated', subject: `bank:${bankId}`, at: now,
      details: { modelId, version: model.version, previousVersion: previous?.version ?? null },
    });
    return { version: model.version, previousVersion: previous?.version ?? null };
  });
}
