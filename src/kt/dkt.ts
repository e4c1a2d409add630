/**
 * The DKT network (Piech et al. 2015) and its item-aware variant: configuration, parameter layout
 * and seeded initialisation. The maths lives in `engine/lstm.ts`.
 *
 * Input at step t: one-hot of `skill + numSkills·correct` (2·numSkills wide) into an LSTM, then
 * dropout and a dense sigmoid layer with one output per skill, read at the next step's skill.
 *
 * Item-aware variant (in the spirit of AKT's Rasch embeddings, kept to per-item scalars):
 *   - input: the gathered kernel row gets `itemScale[item] · kernel[2·numSkills + index]` added,
 *     i.e. each item shifts its skill's interaction embedding along a learned direction;
 *   - output: P(correct | item) = sigmoid(skill logit + itemBias[item]) (itemBias = easiness).
 * Both item parameters start at 0, so an unseen item behaves like its skill.
 */
import { Rng } from './engine/random';

export interface DktConfig {
  numSkills: number;
  /** 0 = skill-only model. */
  numItems: number;
  hidden: number;
  /** Dropout rate on the LSTM output (training only). */
  dropout: number;
  seed: number;
}

export const DEFAULT_HIDDEN = 200;
export const DEFAULT_DROPOUT = 0.2;
/** Input kernel entries start uniform in ±this (see createDkt). */
export const INPUT_INIT_LIMIT = 1;

export function dktConfig(c: Pick<DktConfig, 'numSkills'> & Partial<DktConfig>): DktConfig {
  const config: DktConfig = {
    numSkills: c.numSkills,
    numItems: c.numItems ?? 0,
    hidden: c.hidden ?? DEFAULT_HIDDEN,
    dropout: c.dropout ?? DEFAULT_DROPOUT,
    seed: c.seed ?? 42,
  };
  if (!(config.numSkills >= 1 && config.hidden >= 1 && config.numItems >= 0)) throw new Error(`invalid DKT config ${JSON.stringify(config)}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${config.dropout}`);
  return config;
}

/**
 * Parameter groups in the flat parameter vector (engine layout):
 *   kernel      [inputRows, 4H]  LSTM input kernel, Keras layout and gate order (i, f, c, o);
 *                                rows [0, 2S) one-hot interactions, rows [2S, 4S) the item directions
 *   recurrent   [H, 4H]          LSTM recurrent kernel (Keras layout)
 *   bias        [4H]
 *   outWeights  [S, H]           output layer, one row per skill (the transpose of a Keras Dense kernel)
 *   outBias     [S]
 *   itemScale   [I]              per-item input scale (item-aware only)
 *   itemBias    [I]              per-item output offset (item-aware only)
 */
export const PARAM_GROUPS = ['kernel', 'recurrent', 'bias', 'outWeights', 'outBias', 'itemScale', 'itemBias'] as const;
export type ParamGroup = (typeof PARAM_GROUPS)[number];

export interface ParamSpan {
  offset: number;
  rows: number;
  cols: number;
}

export interface DktLayout {
  groups: Record<ParamGroup, ParamSpan>;
  total: number;
  /** Width of the one-hot interaction input (2S). */
  inputSize: number;
  /** Rows of the input kernel: 2S, or 4S with item directions. */
  kernelRows: number;
}

export function dktLayout(config: DktConfig): DktLayout {
  const S = config.numSkills;
  const H = config.hidden;
  const kernelRows = config.numItems > 0 ? 4 * S : 2 * S;
  const shapes: Record<ParamGroup, [number, number]> = {
    kernel: [kernelRows, 4 * H],
    recurrent: [H, 4 * H],
    bias: [1, 4 * H],
    outWeights: [S, H],
    outBias: [1, S],
    itemScale: [1, config.numItems],
    itemBias: [1, config.numItems],
  };
  let offset = 0;
  const groups = {} as Record<ParamGroup, ParamSpan>;
  for (const name of PARAM_GROUPS) {
    const [rows, cols] = shapes[name];
    groups[name] = { offset, rows, cols };
    offset += rows * cols;
  }
  return { groups, total: offset, inputSize: 2 * S, kernelRows };
}

/** A trained (or freshly initialised) network: its config and its parameters in engine layout. */
export interface DktModel {
  config: DktConfig;
  params: Float32Array;
}

/** A view of one parameter group inside a flat parameter vector. */
export function paramView<T extends Float32Array | Float64Array>(layout: DktLayout, params: T, group: ParamGroup): T {
  const g = layout.groups[group];
  return params.subarray(g.offset, g.offset + g.rows * g.cols) as T;
}

/** Index of the one-hot interaction input for (skill, correct). */
export function interactionIndex(numSkills: number, skill: number, correct: number): number {
  return skill + (correct ? numSkills : 0);
}

/**
 * Seeded initialisation, the Keras defaults except for the input kernel: Glorot-uniform output
 * kernel, orthogonal recurrent kernel, zero biases except the forget gate's (1), item parameters 0.
 *
 * The input kernel is a table with one row per interaction (and item direction), not a dense
 * layer over a real vector, so it starts uniform in ±INPUT_INIT_LIMIT whatever the number of ids.
 * Glorot's fan-in of 2S made the rows of Statics' 1,223 ids ±0.04, so small that Adam needed all
 * 50 epochs to grow them (validation AUC 0.813 at epoch 49); rows of ±1 start like a learned
 * embedding (the reference's N(0,1) embedding times its ±1/√H LSTM input matrix has entries of
 * std ≈ 0.58, as these do) and reached the same validation AUC by epoch 8. On ASSIST2009 they
 * also converged faster (validation AUC 0.816 vs 0.810 at epoch 10).
 */
export function createDkt(config: DktConfig): DktModel {
  const layout = dktLayout(config);
  const params = new Float32Array(layout.total);
  const rng = new Rng(config.seed);
  const S = config.numSkills;
  const H = config.hidden;
  const uniform = (view: Float32Array, limit: number): void => {
    for (let j = 0; j < view.length; j++) view[j] = (2 * rng.next() - 1) * limit;
  };
  uniform(paramView(layout, params, 'kernel'), INPUT_INIT_LIMIT);
  paramView(layout, params, 'recurrent').set(orthogonalRows(H, 4 * H, rng));
  paramView(layout, params, 'bias').fill(1, H, 2 * H);
  uniform(paramView(layout, params, 'outWeights'), Math.sqrt(6 / (H + S)));
  return { config, params };
}

/** rows×cols matrix (rows ≤ cols) with orthonormal rows: Gram–Schmidt on Gaussian rows (= QR with sign fix). */
function orthogonalRows(rows: number, cols: number, rng: Rng): Float64Array {
  const q = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const v = q.subarray(r * cols, (r + 1) * cols);
    for (let j = 0; j < cols; j++) v[j] = rng.normal();
    // Twice for numerical orthogonality ("twice is enough").
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < r; p++) {
        const u = q.subarray(p * cols, (p + 1) * cols);
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += u[j] * v[j];
        for (let j = 0; j < cols; j++) v[j] -= dot * u[j];
      }
    }
    let norm = 0;
    for (let j = 0; j < cols; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm);
    for (let j = 0; j < cols; j++) v[j] /= norm;
  }
  return q;
}
