/**
 * Versioned knowledge-tracing models of a bank, as stored in `kt_model`: which one is active, the
 * maps between the bank's database ids and the model's 0-based indices, and an in-memory cache of
 * loaded predictors. Rows are immutable once written (only status and activated_at change), so a
 * predictor cached by model id never goes stale; which model is active is always read from the
 * database, so another process activating a model is seen on the next call.
 */
import { z } from 'zod';
import type { Db } from '../db/schema';
import { DktPredictor } from './predict';
import { deserializeDkt } from './tfjs-format';
import { Lru } from '../lru';

/** 'retired': replaced by a newer active model; 'rolled-back': withdrawn, not brought back by a later rollback. */
export type ModelStatus = 'active' | 'candidate' | 'retired' | 'rolled-back';

/** kt_model.meta: how the model's indices map to the bank, and how it was trained. */
export const bankModelMetaSchema = z.object({
  /** Database skill id for each 0-based skill index of the model. */
  skillIds: z.array(z.number().int()),
  /** Database item id for each 0-based item index (empty for a skill-only model). */
  itemIds: z.array(z.number().int()),
  hyperParameters: z.record(z.string(), z.unknown()),
  /** Students and answers in the training and validation splits. */
  data: z.object({ trainStudents: z.number(), validStudents: z.number(), answers: z.number() }),
});
export type BankModelMeta = z.infer<typeof bankModelMetaSchema>;

/** kt_model.metrics. */
export const modelMetricsSchema = z.object({
  validAuc: z.number(),
  bestEpoch: z.number(),
  epochsRun: z.number(),
  secondsPerEpoch: z.number(),
  /** Every variant trained and its best validation AUC (the kept one included). */
  candidates: z.array(z.object({ variant: z.string(), bestValidAuc: z.number(), bestEpoch: z.number() })),
  /**
   * The comparison on held-out attempts (holdout.ts) that decided whether it became active; absent
   * for models trained before it existed (they learnt from every attempt before their created_at).
   */
  holdout: z.object({
    /** First held-out attempt (created_at, id): the model was trained only on attempts before it. */
    from: z.object({ at: z.number(), id: z.number() }),
    /** How many attempts were held out. */
    attempts: z.number(),
    /** This model's AUC on them (null when undefined: all right or all wrong). */
    auc: z.number().nullable(),
    /** The model active at training time, scored on the same attempt ids. */
    active: z.object({ modelId: z.number(), version: z.number(), auc: z.number().nullable() }).nullable(),
  }).optional(),
});
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;

/** A model version without its weights. */
export interface ModelSummary {
  id: number;
  tenantId: number | null;
  bankId: number | null;
  version: number;
  status: ModelStatus;
  engine: string;
  variant: string;
  dataSize: number;
  metrics: ModelMetrics;
  createdAt: number;
  activatedAt: number | null;
}

const summaryColumns = ['id', 'tenant_id', 'bank_id', 'version', 'status', 'engine', 'variant', 'data_size', 'metrics', 'created_at', 'activated_at'] as const;

type SummaryRow = { id: number; tenant_id: number | null; bank_id: number | null; version: number; status: string; engine: string; variant: string; data_size: number; metrics: string; created_at: number; activated_at: number | null };

function toSummary(r: SummaryRow): ModelSummary {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    bankId: r.bank_id,
    version: r.version,
    status: r.status as ModelStatus,
    engine: r.engine,
    variant: r.variant,
    dataSize: r.data_size,
    metrics: modelMetricsSchema.parse(JSON.parse(r.metrics)),
    createdAt: Number(r.created_at),
    activatedAt: r.activated_at === null ? null : Number(r.activated_at),
  };
}

/** Model versions, newest first; narrowed to a tenant and/or bank when given. */
export async function listModels(db: Db, filter: { tenantId?: number; bankId?: number } = {}): Promise<ModelSummary[]> {
  let q = db.selectFrom('kt_model').select(summaryColumns);
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  if (filter.bankId !== undefined) q = q.where('bank_id', '=', filter.bankId);
  const rows = await q.orderBy('tenant_id').orderBy('bank_id').orderBy('version', 'desc').execute();
  return rows.map(toSummary);
}

/** The active model of a tenant's bank, if any. */
export async function activeModel(db: Db, tenantId: number, bankId: number): Promise<ModelSummary | null> {
  const row = await db.selectFrom('kt_model').select(summaryColumns)
    .where('tenant_id', '=', tenantId).where('bank_id', '=', bankId).where('status', '=', 'active')
    .executeTakeFirst();
  return row ? toSummary(row) : null;
}

/** The version number a new model of this tenant's bank gets. */
export async function nextVersion(db: Db, tenantId: number, bankId: number): Promise<number> {
  const row = await db.selectFrom('kt_model').select((eb) => eb.fn.max('version').as('v'))
    .where('tenant_id', '=', tenantId).where('bank_id', '=', bankId).executeTakeFirst();
  return Number(row?.v ?? 0) + 1;
}

/**
 * Makes `modelId` the bank's only active model (null: none, the cold-start estimator serves);
 * the previously active one is retired. Run inside the caller's transaction.
 */
export async function setActiveModel(tx: Db, tenantId: number, bankId: number, modelId: number | null, now: number): Promise<void> {
  await tx.updateTable('kt_model').set({ status: 'retired' })
    .where('tenant_id', '=', tenantId).where('bank_id', '=', bankId).where('status', '=', 'active')
    .execute();
  if (modelId !== null) await tx.updateTable('kt_model').set({ status: 'active', activated_at: now }).where('id', '=', modelId).execute();
}

/** Where the attempts a model never trained on begin (holdout.ts): its held-out start, else after its creation. */
export function trainedBefore(m: ModelSummary): { at: number; id: number } {
  return m.metrics.holdout?.from ?? { at: m.createdAt + 1, id: 0 };
}

/** A model ready to serve, with its id maps. */
export interface LoadedModel {
  id: number;
  predictor: DktPredictor;
  /** Database skill id → the model's skill index. */
  skillIndex: Map<number, number>;
  /** Database item id → the model's item index (empty for a skill-only model). */
  itemIndex: Map<number, number>;
}

/** Loaded predictors by model id, least recently used dropped first. */
export class ModelCache {
  private readonly loaded: Lru<number, LoadedModel>;

  constructor(capacity = 8) {
    this.loaded = new Lru(capacity);
  }

  async get(db: Db, modelId: number): Promise<LoadedModel> {
    const hit = this.loaded.get(modelId);
    if (hit) return hit;
    const row = await db.selectFrom('kt_model').select(['weights', 'meta']).where('id', '=', modelId).executeTakeFirstOrThrow();
    const meta = bankModelMetaSchema.parse(JSON.parse(row.meta));
    const { model } = deserializeDkt(row.weights);
    const loaded: LoadedModel = {
      id: modelId,
      predictor: new DktPredictor(model),
      skillIndex: new Map(meta.skillIds.map((id, i) => [id, i])),
      itemIndex: new Map(meta.itemIds.map((id, i) => [id, i])),
    };
    this.loaded.set(modelId, loaded);
    return loaded;
  }
}

/** A request the models' state does not allow (unknown model, nothing to roll back, too little data). */
export class ModelCommandError extends Error {}
