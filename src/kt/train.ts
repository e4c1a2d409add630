/**
 * DKT training: 200-step windows, length-bucketed batches of 64, Adam with gradient-norm clipping,
 * early stopping on validation AUC with the best weights restored — the reference protocol
 * (../shared/kt-reference/dkt_ref.py) on Jejak's own engine.
 */
import { windows } from './data/sequences';
import { createDkt, dktConfig, DktConfig, DktModel } from './dkt';
import { createKernels, KernelKind } from './engine';
import { AdamOptions, DEFAULT_ADAM, DktEngine, PackedBatch, packWindows } from './engine/lstm';
import { Rng } from './engine/random';
import { auc } from './metrics';
import type { KtDataset, StudentSequence } from './types';

export type DktVariant = 'skill' | 'item';

export interface TrainOptions {
  hidden?: number;
  dropout?: number;
  seed?: number;
  /** 'auto' (default): the skill-only model, and also the item-aware one when the data has item ids; the better on validation AUC wins. */
  variant?: DktVariant | 'auto';
  batchSize?: number;
  /** Students are cut into consecutive pieces of at most this many answers. */
  windowLength?: number;
  maxEpochs?: number;
  /** Stop after this many epochs without a better validation AUC. */
  patience?: number;
  /** Stop after the epoch that passes this wall time (0 = no cap). */
  maxSeconds?: number;
  adam?: Partial<AdamOptions>;
  kernels?: KernelKind;
}

export interface TrainProgress {
  variant: DktVariant;
  epoch: number;
  maxEpochs: number;
  batch: number;
  batches: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Set once the epoch's validation is done. */
  validAuc?: number;
  elapsedSec: number;
  /** Time left if training runs to maxEpochs (an upper bound: early stopping usually ends sooner). */
  etaSec: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  validAuc: number;
  seconds: number;
}

export interface TrainResult {
  model: DktModel;
  variant: DktVariant;
  history: EpochRecord[];
  bestValidAuc: number;
  bestEpoch: number;
  /** Mean training time of an epoch (without validation). */
  secondsPerEpoch: number;
  /** Every variant trained, with its best validation AUC (the chosen one included). */
  candidates: { variant: DktVariant; bestValidAuc: number; bestEpoch: number }[];
}

const DEFAULTS = { batchSize: 64, windowLength: 200, maxEpochs: 50, patience: 5, maxSeconds: 0 };

/** The scored pieces of a dataset: windows of ≤ windowLength answers, those with at least 2. */
export function trainingWindows(ds: KtDataset, windowLength: number): StudentSequence[] {
  return ds.sequences.flatMap((s) => windows(s, windowLength)).filter((w) => w.correct.length >= 2);
}

/**
 * Batches as the reference makes them: shuffle, sort by length inside pools of 16 batches (so a
 * batch holds similar lengths), cut into batches, shuffle the batch order.
 */
function epochBatches(ws: readonly StudentSequence[], batchSize: number, rng: Rng): StudentSequence[][] {
  const order = ws.map((_, i) => i);
  rng.shuffle(order);
  const pool = 16 * batchSize;
  const sorted: number[] = [];
  for (let p = 0; p < order.length; p += pool) {
    sorted.push(...order.slice(p, p + pool).sort((a, b) => ws[b].correct.length - ws[a].correct.length));
  }
  const batches: StudentSequence[][] = [];
  for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize).map((i) => ws[i]));
  rng.shuffle(batches);
  return batches;
}

/** Validation/evaluation batches: sorted by length, so each holds similar lengths. */
function evalBatches(ws: readonly StudentSequence[], batchSize: number): StudentSequence[][] {
  const sorted = [...ws].sort((a, b) => b.correct.length - a.correct.length);
  const batches: StudentSequence[][] = [];
  for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize));
  return batches;
}

export interface ScoredDkt {
  labels: Uint8Array;
  preds: Float32Array;
}

/** Predictions for every answer but the first of each window, in the engine's order. */
function scoreWithEngine(engine: DktEngine, batches: readonly PackedBatch[]): ScoredDkt {
  const n = batches.reduce((sum, b) => sum + b.rows, 0);
  const labels = new Uint8Array(n);
  const preds = new Float32Array(n);
  let at = 0;
  for (const batch of batches) {
    preds.set(engine.forward(batch), at);
    labels.set(batch.targetCorrect, at);
    at += batch.rows;
  }
  return { labels, preds };
}

/** Scores a model on a dataset with the DKT protocol (windows, first answer of each unscored). */
export function scoreDkt(model: DktModel, ds: KtDataset, opts: Pick<TrainOptions, 'batchSize' | 'windowLength' | 'kernels'> = {}): ScoredDkt {
  const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
  const windowLength = opts.windowLength ?? DEFAULTS.windowLength;
  const withItems = model.config.numItems > 0;
  const batches = evalBatches(trainingWindows(ds, windowLength), batchSize).map((b) => packWindows(b, model.config.numSkills, withItems));
  const engine = new DktEngine(createKernels(opts.kernels), model.config, {
    maxRows: Math.max(1, ...batches.map((b) => b.rows)),
    maxSequences: batchSize,
    training: false,
  });
  engine.setParams(model.params);
  return scoreWithEngine(engine, batches);
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function trainVariant(
  train: KtDataset,
  valid: KtDataset,
  variant: DktVariant,
  opts: TrainOptions,
  onProgress?: (p: TrainProgress) => void,
): Promise<Omit<TrainResult, 'candidates'>> {
  const o = { ...DEFAULTS, ...opts };
  const config: DktConfig = dktConfig({
    numSkills: Math.max(train.numSkills, valid.numSkills),
    numItems: variant === 'item' ? Math.max(train.numItems, valid.numItems) : 0,
    hidden: opts.hidden,
    dropout: opts.dropout,
    seed: opts.seed,
  });
  const withItems = variant === 'item';
  const adam = { ...DEFAULT_ADAM, ...opts.adam };
  const model = createDkt(config);
  const rng = new Rng(config.seed + 1);
  const trainWindows = trainingWindows(train, o.windowLength);
  if (trainWindows.length === 0) throw new Error(`${train.name}: no student has 2 or more answers to train on`);
  const validBatches = evalBatches(trainingWindows(valid, o.windowLength), o.batchSize).map((b) => packWindows(b, config.numSkills, withItems));
  if (validBatches.length === 0) throw new Error(`${valid.name}: no student has 2 or more answers to validate on`);
  const engine = new DktEngine(createKernels(opts.kernels), config, {
    maxRows: o.batchSize * (o.windowLength - 1),
    maxSequences: o.batchSize,
    training: true,
  });
  engine.setParams(model.params);

  const history: EpochRecord[] = [];
  const best = { auc: -Infinity, epoch: 0, params: Float32Array.from(model.params) };
  const started = performance.now();
  let trainSeconds = 0;
  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    const epochStart = performance.now();
    const batches = epochBatches(trainWindows, o.batchSize, rng);
    let lossSum = 0;
    for (let b = 0; b < batches.length; b++) {
      lossSum += engine.lossAndGradients(packWindows(batches[b], config.numSkills, withItems), rng.nextU32());
      engine.adamStep(adam);
      if (onProgress) {
        const elapsedSec = (performance.now() - started) / 1000;
        const perBatch = (performance.now() - epochStart) / 1000 / (b + 1);
        const etaSec = perBatch * (batches.length - b - 1 + (o.maxEpochs - epoch) * batches.length);
        onProgress({ variant, epoch, maxEpochs: o.maxEpochs, batch: b + 1, batches: batches.length, loss: lossSum / (b + 1), elapsedSec, etaSec });
      }
      // Lets timers and I/O run between batches when training shares a thread.
      await nextTick();
    }
    const seconds = (performance.now() - epochStart) / 1000;
    trainSeconds += seconds;
    const scored = scoreWithEngine(engine, validBatches);
    const validAuc = auc(scored.labels, scored.preds);
    const loss = lossSum / batches.length;
    history.push({ epoch, loss, validAuc, seconds });
    const elapsedSec = (performance.now() - started) / 1000;
    onProgress?.({ variant, epoch, maxEpochs: o.maxEpochs, batch: batches.length, batches: batches.length, loss, validAuc, elapsedSec, etaSec: (o.maxEpochs - epoch) * (elapsedSec / epoch) });
    if (validAuc > best.auc) {
      best.auc = validAuc;
      best.epoch = epoch;
      engine.getParams(best.params);
    } else if (epoch - best.epoch >= o.patience) {
      break;
    }
    if (o.maxSeconds > 0 && elapsedSec > o.maxSeconds) break;
  }
  model.params.set(best.params);
  return { model, variant, history, bestValidAuc: best.auc, bestEpoch: best.epoch, secondsPerEpoch: trainSeconds / history.length };
}

/**
 * Trains DKT on `train`, early-stopping on `valid`; returns the model with the best validation
 * AUC. With item ids in the data (and variant 'auto'), trains the skill-only and the item-aware
 * model and keeps the better one.
 */
export async function trainDkt(train: KtDataset, valid: KtDataset, opts: TrainOptions = {}, onProgress?: (p: TrainProgress) => void): Promise<TrainResult> {
  const variant = opts.variant ?? 'auto';
  const hasItems = train.numItems > 0 && train.sequences.every((s) => s.items);
  if (variant === 'item' && !hasItems) throw new Error(`${train.name}: the item-aware model needs item ids in the data`);
  const variants: DktVariant[] = variant === 'auto' ? (hasItems ? ['skill', 'item'] : ['skill']) : [variant];
  const results: Omit<TrainResult, 'candidates'>[] = [];
  for (const v of variants) results.push(await trainVariant(train, valid, v, opts, onProgress));
  const winner = results.reduce((a, b) => (b.bestValidAuc > a.bestValidAuc ? b : a));
  return { ...winner, candidates: results.map((r) => ({ variant: r.variant, bestValidAuc: r.bestValidAuc, bestEpoch: r.bestEpoch })) };
}
