import { z } from 'zod';
import type { Db } from '../../db/schema';
import { insertReturningId } from '../../db/writes';
import { sequencesFromAttempts, type AttemptRow } from '../data/sequences';
import { wasmKernelsAvailable } from '../engine/kernels-wasm';
import { Rng } from '../engine/random';
import { audit } from '../../db/audit';
import { type BankAttempt, type Cutoff, holdoutCutoff, isHeldOut, scoreOnHoldout } from '../holdout';
import { activeModel, type BankModelMeta, ModelCache, ModelCommandError, type ModelMetrics, type ModelStatus, nextVersion, setActiveModel, trainedBefore } from '../models';
import { DktPredictor } from '../predict';
import { serializeDkt } from '../tfjs-format';
import { trainDkt, type TrainOptions, type TrainProgress, type TrainResult } from '../train';
import type { KtDataset } from '../types';

/** Training options a bank's model may be given (validated where they enter: CLI, job requests). */
export const bankTrainOptionsSchema = z.object({
  hidden: z.number().int().min(1).max(1024).default(200),
  maxEpochs: z.number().int().min(1).max(1000).default(30),
  patience: z.number().int().min(1).max(100).default(5),
  seed: z.number().int().min(0).default(1),
  /** Windows per training batch (a small school bank trains better with smaller batches). */
  batchSize: z.number().int().min(1).max(1024).default(64),
  /** 'auto': also the item-aware model, kept when its validation AUC is better. */
  variant: z.enum(['auto', 'skill', 'item']).default('auto'),
  /** Share of the training students kept apart for early stopping. */
  validFraction: z.number().gt(0).lt(1).default(0.2),
  /** Share of the bank's most recent attempts held out, never trained on: the candidate and the active model are compared there. */
  holdoutFraction: z.number().gt(0).lt(1).default(0.2),
  /** Wall-time cap in seconds (0 = none). */
  maxSeconds: z.number().min(0).default(0),
});
export type BankTrainOptions = z.input<typeof bankTrainOptionsSchema>;

/** Runs a training: trainDkt itself, or something that runs it elsewhere (a worker thread). */
export type DktTrainer = (train: KtDataset, valid: KtDataset, opts: TrainOptions, onProgress?: (p: TrainProgress) => void) => Promise<TrainResult>;

export interface TrainBankModelProps {
  /** The database (not a transaction: training takes a while; the writes get their own transaction at the end). */
  db: Db;
  /** The tenant (deployment) whose students' attempts train the model; the model is that tenant's. */
  tenantId: number;
  /** The bank whose skills and items the model covers. */
  bankId: number;
  /** Who asked, for the audit log: 'cli', 'lti:<sub>', 'system'. */
  actor: string;
  /** Hyper-parameters; defaults as in bankTrainOptionsSchema. */
  options?: BankTrainOptions;
  /** Runs the training; default trainDkt in this thread (the job runner passes a worker thread's). */
  trainer?: DktTrainer;
  /** Told after every batch and epoch. */
  onProgress?: (p: TrainProgress) => void;
  /** Where the active model is loaded from for the comparison (default: a cache of its own). */
  models?: ModelCache;
}

export interface TrainBankModelResult {
  modelId: number;
  version: number;
  /** 'active' when its AUC on the held-out attempts is at least the active model's on the same attempts, else 'candidate'. */
  status: ModelStatus;
  validAuc: number;
  /** Its AUC on the held-out attempts. */
  holdoutAuc: number;
  /** The AUC of the model that was active before on the same held-out attempts, if any. */
  previousAuc: number | null;
  /** The held-out attempts both were scored on. */
  heldOut: { from: Cutoff; attemptIds: number[] };
  data: BankModelMeta['data'];
}

/** Fewest students with two or more answers a bank needs before a model is trained. */
export const MIN_TRAINING_STUDENTS = 10;

/**
 * A tenant's attempts on a bank as a dataset in the bank's id space: skills and items indexed in
 * id order; each attempt on its primary skill (the lowest skill id of the item, as tracer.ts folds
 * answers); students under pseudonyms ('s0', 's1', … per course and user), never their LTI ids.
 * The most recent `holdout.fraction` of the attempts (never before `holdout.notBefore`) are held out
 * (`attempts` keeps them for scoring); the earlier ones are split by student into training and
 * validation (early stopping) sets.
 */
export async function bankTrainingData(db: Db, tenantId: number, bankId: number, validFraction: number, seed: number, holdout: { fraction: number; notBefore: Cutoff | null } = { fraction: 0.2, notBefore: null }) {
  const [skills, items, attempts] = await Promise.all([
    db.selectFrom('skill').select('id').where('bank_id', '=', bankId).orderBy('id').execute(),
    db.selectFrom('item').select('id').where('bank_id', '=', bankId).orderBy('id').execute(),
    db.selectFrom('attempt').innerJoin('activity', 'activity.id', 'attempt.activity_id')
      .select(['attempt.id', 'attempt.context_id', 'attempt.user_sub', 'attempt.item_id', 'attempt.skill_ids', 'attempt.correct', 'attempt.created_at'])
      .where('attempt.tenant_id', '=', tenantId).where('activity.bank_id', '=', bankId).where('attempt.preview', '=', 0)
      .orderBy('attempt.created_at').orderBy('attempt.id')
      .execute(),
  ]);
  const skillIds = skills.map((s) => s.id);
  const itemIds = items.map((i) => i.id);
  const skillIndex = new Map(skillIds.map((id, i) => [id, i]));
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const pseudonyms = new Map<string, string>();
  const all: BankAttempt[] = [];
  for (const a of attempts) {
    const known = (JSON.parse(a.skill_ids) as number[]).filter((id) => skillIndex.has(id));
    const item = itemIndex.get(a.item_id);
    if (known.length === 0 || item === undefined) continue;
    const who = JSON.stringify([a.context_id, a.user_sub]);
    let student = pseudonyms.get(who);
    if (!student) pseudonyms.set(who, (student = `s${pseudonyms.size}`));
    all.push({ id: a.id, student, skillId: Math.min(...known), itemId: a.item_id, correct: Boolean(a.correct), at: Number(a.created_at) });
  }
  const from = holdoutCutoff(all, holdout.fraction, holdout.notBefore);
  const rows: AttemptRow[] = all.filter((a) => !isHeldOut(a, from))
    .map((a) => ({ student: a.student, skill: skillIndex.get(a.skillId)!, item: itemIndex.get(a.itemId)!, correct: a.correct ? 1 : 0, at: a.at }));
  if (rows.length === all.length) throw new ModelCommandError(`bank ${bankId} has no attempts of tenant ${tenantId} left to hold out for the comparison`);
  const sequences = sequencesFromAttempts(rows).filter((s) => s.correct.length >= 2);
  if (sequences.length < MIN_TRAINING_STUDENTS) {
    throw new ModelCommandError(`bank ${bankId} has ${sequences.length} students with 2 or more answers for tenant ${tenantId}; training needs at least ${MIN_TRAINING_STUDENTS}`);
  }
  new Rng(seed).shuffle(sequences);
  const validCount = Math.max(1, Math.round(sequences.length * validFraction));
  const dataset = (name: string, seqs: typeof sequences): KtDataset => ({ name: `bank ${bankId} ${name}`, numSkills: skillIds.length, numItems: itemIds.length, sequences: seqs });
  return {
    train: dataset('train', sequences.slice(validCount)),
    valid: dataset('valid', sequences.slice(0, validCount)),
    skillIds,
    itemIds,
    data: { trainStudents: sequences.length - validCount, validStudents: validCount, answers: rows.length },
    attempts: all,
    heldOutFrom: from,
  };
}

/**
 * Trains a DKT model of a bank from the tenant's own attempts, except the most recent ones, which
 * are held out; scores it and the active model on those same held-out attempts, and stores it as the
 * bank's next version, active if its AUC there is at least the active model's (else a candidate),
 * with the comparison in its metrics and an audit row, in one transaction.
 */
export async function trainBankModel(props: TrainBankModelProps): Promise<TrainBankModelResult> {
  const { db, tenantId, bankId } = props;
  const o = bankTrainOptionsSchema.parse(props.options ?? {});
  const bank = await db.selectFrom('bank').select(['id', 'tenant_id']).where('id', '=', bankId).executeTakeFirst();
  if (!bank || (bank.tenant_id !== null && bank.tenant_id !== tenantId)) throw new ModelCommandError(`tenant ${tenantId} has no bank ${bankId}`);
  const current = await activeModel(db, tenantId, bankId);
  const { train, valid, skillIds, itemIds, data, attempts, heldOutFrom } = await bankTrainingData(db, tenantId, bankId, o.validFraction, o.seed,
    { fraction: o.holdoutFraction, notBefore: current && trainedBefore(current) });
  const trainOptions: TrainOptions = { hidden: o.hidden, maxEpochs: o.maxEpochs, patience: o.patience, seed: o.seed, variant: o.variant, batchSize: o.batchSize, maxSeconds: o.maxSeconds };
  const result = await (props.trainer ?? trainDkt)(train, valid, trainOptions, props.onProgress);

  const engine = `jejak-${wasmKernelsAvailable() ? 'wasm' : 'js'}`;
  const meta: BankModelMeta = { skillIds, itemIds: result.variant === 'item' ? itemIds : [], hyperParameters: { ...o, variant: result.variant }, data };
  const candidate = scoreOnHoldout({
    predictor: new DktPredictor(result.model),
    skillIndex: new Map(meta.skillIds.map((id, i) => [id, i])),
    itemIndex: new Map(meta.itemIds.map((id, i) => [id, i])),
  }, attempts, heldOutFrom);
  const incumbent = current && { model: current, score: scoreOnHoldout(await (props.models ?? new ModelCache(1)).get(db, current.id), attempts, heldOutFrom) };
  const nullable = (x: number) => (Number.isNaN(x) ? null : x);
  const metrics: ModelMetrics = {
    validAuc: result.bestValidAuc,
    bestEpoch: result.bestEpoch,
    epochsRun: result.history.length,
    secondsPerEpoch: result.secondsPerEpoch,
    candidates: result.candidates,
    holdout: {
      from: heldOutFrom, attempts: candidate.attemptIds.length, auc: nullable(candidate.auc),
      active: incumbent && { modelId: incumbent.model.id, version: incumbent.model.version, auc: nullable(incumbent.score.auc) },
    },
  };
  const weights = serializeDkt(result.model, {
    skillIds: meta.skillIds.map(String),
    itemIds: meta.itemIds.length ? meta.itemIds.map(String) : undefined,
    hyperParameters: meta.hyperParameters,
    metrics: { validAuc: metrics.validAuc, bestEpoch: metrics.bestEpoch },
    engine,
    trainedAt: new Date().toISOString(),
  });
  return db.transaction().execute(async (tx) => {
    const now = Date.now();
    const [version, active] = await Promise.all([nextVersion(tx, tenantId, bankId), activeModel(tx, tenantId, bankId)]);
    // Another model activated meanwhile was not scored on these attempts: this one stays a candidate.
    const previousAuc = incumbent && incumbent.model.id === active?.id ? incumbent.score.auc : null;
    const status: ModelStatus = active === null || (previousAuc !== null && !(candidate.auc < previousAuc)) ? 'active' : 'candidate';
    const id = await insertReturningId(tx, 'kt_model', {
      tenant_id: tenantId, bank_id: bankId, version, status: 'candidate', engine, variant: result.variant, weights,
      meta: JSON.stringify(meta), metrics: JSON.stringify(metrics), data_size: data.answers, created_at: now, activated_at: null,
    });
    if (status === 'active') await setActiveModel(tx, tenantId, bankId, id, now);
    await audit(tx, {
      tenantId, actor: props.actor, action: 'kt.model.trained', subject: `bank:${bankId}`, at: now,
      details: { modelId: id, version, status, validAuc: metrics.validAuc, holdoutAuc: metrics.holdout!.auc, previousAuc: metrics.holdout!.active?.auc ?? null, previousVersion: incumbent?.model.version ?? null, heldOutAttempts: candidate.attemptIds.length, variant: result.variant, ...data },
    });
    return { modelId: id, version, status, validAuc: metrics.validAuc, holdoutAuc: candidate.auc, previousAuc, heldOut: { from: heldOutFrom, attemptIds: candidate.attemptIds }, data };
  });
}
