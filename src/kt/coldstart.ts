/**
 * Cold-start knowledge tracing: estimators that work from a student's first answer and for a bank
 * with no trained DKT model yet, with the same serving shape as the DKT predictor (a per-student
 * state advanced by one step per answer, per-skill and per-item P(correct)).
 *
 * - BKT (Corbett & Anderson 1995): a 2-state HMM per skill (P(L0), learn, guess, slip), fitted by
 *   EM when there is data, with textbook defaults when there is none.
 * - Elo (Pelánek 2016, "Applications of the Elo rating system in adaptive educational systems"):
 *   P(correct) = σ(θ_student + θ_student,skill − β_skill − δ_item), updated after each answer with an
 *   uncertainty-adjusted step K(n) = a / (1 + b·n) that shrinks as n attempts accumulate.
 */
import { BinaryMetrics, binaryMetrics } from './metrics';
import { windows } from './data/sequences';
import { KtDataset, StudentSequence } from './types';

/** What serving needs from a knowledge-tracing model, whatever it is. */
export interface KtPredictor<State> {
  readonly numSkills: number;
  readonly numItems: number;
  /** State of a student who has answered nothing yet. */
  initialState(): State;
  /** Advances `state` in place by one answer. */
  step(state: State, skill: number, item: number | undefined, correct: boolean | number): void;
  /** P(correct) on each skill's next question. */
  predictAll(state: State): Float32Array;
  /** P(correct) on a question of `skill` (and, where the model knows items, that item). */
  predictItem(state: State, skill: number, item?: number): number;
}

function checkSkill(skill: number, numSkills: number): void {
  if (!Number.isInteger(skill) || skill < 0 || skill >= numSkills) throw new RangeError(`skill ${skill} is outside 0..${numSkills - 1}`);
}

// ---------------------------------------------------------------------------------------------
// BKT

export interface BktParams {
  /** P(L0): the skill is known before the first attempt. */
  init: number;
  /** P(T): learned between two attempts. */
  learn: number;
  /** P(G): correct although unknown. */
  guess: number;
  /** P(S): wrong although known. */
  slip: number;
}

/** Used for skills without data; P(correct) on a first attempt is 0.4·0.9 + 0.6·0.2 = 0.48. */
export const DEFAULT_BKT: Readonly<BktParams> = { init: 0.4, learn: 0.1, guess: 0.2, slip: 0.1 };

export interface BktFitOptions {
  maxIterations?: number;
  /** Stop when the log-likelihood gains less than this per observation. */
  tolerance?: number;
  /**
   * Ceiling on guess and slip. Without it EM may settle on the mirrored solution where "known"
   * students answer wrong (the identifiability problem of BKT); 0.3 is the usual bound.
   */
  maxGuessSlip?: number;
}

const PROB_FLOOR = 1e-4;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Baum–Welch for one skill: `runs` are the students' answer sequences on that skill. Uses scaled
 * forward–backward (filtered α_t, β_t divided by the same per-step normaliser c_t).
 */
export function fitBktSkill(runs: readonly Uint8Array[], opts: BktFitOptions = {}): BktParams {
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-6;
  const maxGuessSlip = opts.maxGuessSlip ?? 0.3;
  let observations = 0;
  let longest = 0;
  for (const r of runs) {
    observations += r.length;
    longest = Math.max(longest, r.length);
  }
  let p: BktParams = { ...DEFAULT_BKT };
  const students = runs.filter((r) => r.length).length;
  if (!students) return p;
  // alpha[2t + s]: filtered P(state s at t | answers ≤ t); beta likewise; scale[t] = c_t.
  const alpha = new Float64Array(2 * longest);
  const beta = new Float64Array(2 * longest);
  const scale = new Float64Array(longest);
  let previousLogLik = -Infinity;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const { init, learn, guess, slip } = p;
    let initKnown = 0;
    let learnNum = 0;
    let learnDen = 0;
    let guessNum = 0;
    let unknownMass = 0;
    let slipNum = 0;
    let knownMass = 0;
    let logLik = 0;
    for (const obs of runs) {
      const n = obs.length;
      if (!n) continue;
      let prior0 = 1 - init;
      let prior1 = init;
      for (let t = 0; t < n; t++) {
        const a0 = prior0 * (obs[t] ? guess : 1 - guess);
        const a1 = prior1 * (obs[t] ? 1 - slip : slip);
        const c = a0 + a1;
        scale[t] = c;
        alpha[2 * t] = a0 / c;
        alpha[2 * t + 1] = a1 / c;
        logLik += Math.log(c);
        prior0 = alpha[2 * t] * (1 - learn);
        prior1 = alpha[2 * t] * learn + alpha[2 * t + 1];
      }
      beta[2 * (n - 1)] = 1;
      beta[2 * (n - 1) + 1] = 1;
      for (let t = n - 2; t >= 0; t--) {
        const e0 = obs[t + 1] ? guess : 1 - guess;
        const e1 = obs[t + 1] ? 1 - slip : slip;
        const w0 = (e0 * beta[2 * (t + 1)]) / scale[t + 1];
        const w1 = (e1 * beta[2 * (t + 1) + 1]) / scale[t + 1];
        beta[2 * t] = (1 - learn) * w0 + learn * w1;
        beta[2 * t + 1] = w1;
        // Expected unknown→known transitions and time spent unknown before a transition.
        learnNum += alpha[2 * t] * learn * w1;
        learnDen += alpha[2 * t] * beta[2 * t];
      }
      initKnown += alpha[1] * beta[1];
      for (let t = 0; t < n; t++) {
        const g0 = alpha[2 * t] * beta[2 * t];
        const g1 = alpha[2 * t + 1] * beta[2 * t + 1];
        unknownMass += g0;
        knownMass += g1;
        if (obs[t]) guessNum += g0;
        else slipNum += g1;
      }
    }
    p = {
      init: clamp(initKnown / students, PROB_FLOOR, 1 - PROB_FLOOR),
      learn: clamp(learnDen > 0 ? learnNum / learnDen : learn, PROB_FLOOR, 1 - PROB_FLOOR),
      guess: clamp(unknownMass > 0 ? guessNum / unknownMass : guess, PROB_FLOOR, maxGuessSlip),
      slip: clamp(knownMass > 0 ? slipNum / knownMass : slip, PROB_FLOOR, maxGuessSlip),
    };
    if (logLik - previousLogLik < tolerance * observations) break;
    previousLogLik = logLik;
  }
  return p;
}

/** Each student's answers on each skill, in order: the sequences a per-skill BKT sees. */
function runsPerSkill(ds: KtDataset): Uint8Array[][] {
  const runs: number[][][] = Array.from({ length: ds.numSkills }, () => []);
  for (const seq of ds.sequences) {
    const mine = new Map<number, number[]>();
    for (let t = 0; t < seq.correct.length; t++) {
      let list = mine.get(seq.skills[t]);
      if (!list) mine.set(seq.skills[t], (list = []));
      list.push(seq.correct[t]);
    }
    for (const [skill, list] of mine) runs[skill].push(list);
  }
  return runs.map((forSkill) => forSkill.map((list) => Uint8Array.from(list)));
}

/** Per-student BKT state: P(skill known) for each skill. */
export type BktState = Float64Array;

export class BktModel implements KtPredictor<BktState> {
  readonly numItems = 0;

  constructor(readonly params: readonly BktParams[]) {}

  get numSkills(): number {
    return this.params.length;
  }

  /** Every skill on DEFAULT_BKT: for a bank with no data at all. */
  static untrained(numSkills: number): BktModel {
    return new BktModel(Array.from({ length: numSkills }, () => ({ ...DEFAULT_BKT })));
  }

  /** EM per skill; skills without training data get the median of the fitted skills' parameters. */
  static fit(ds: KtDataset, opts: BktFitOptions = {}): BktModel {
    const runs = runsPerSkill(ds);
    const fitted = runs.map((r) => (r.length ? fitBktSkill(r, opts) : null));
    const seen = fitted.filter((p): p is BktParams => p !== null);
    const median = (key: keyof BktParams): number => {
      const v = seen.map((p) => p[key]).sort((a, b) => a - b);
      return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    const fallback: BktParams = seen.length
      ? { init: median('init'), learn: median('learn'), guess: median('guess'), slip: median('slip') }
      : { ...DEFAULT_BKT };
    return new BktModel(fitted.map((p) => p ?? { ...fallback }));
  }

  initialState(): BktState {
    return Float64Array.from(this.params, (p) => p.init);
  }

  step(state: BktState, skill: number, _item: number | undefined, correct: boolean | number): void {
    checkSkill(skill, this.numSkills);
    const { learn, guess, slip } = this.params[skill];
    const known = state[skill];
    const posterior = correct
      ? (known * (1 - slip)) / (known * (1 - slip) + (1 - known) * guess)
      : (known * slip) / (known * slip + (1 - known) * (1 - guess));
    state[skill] = posterior + (1 - posterior) * learn;
  }

  predictAll(state: BktState): Float32Array {
    return Float32Array.from(this.params, (p, k) => state[k] * (1 - p.slip) + (1 - state[k]) * p.guess);
  }

  predictItem(state: BktState, skill: number): number {
    checkSkill(skill, this.numSkills);
    const { guess, slip } = this.params[skill];
    return state[skill] * (1 - slip) + (1 - state[skill]) * guess;
  }
}

// ---------------------------------------------------------------------------------------------
// Elo

export interface EloOptions {
  /** K(n) = kScale / (1 + kDecay·n) after n earlier attempts (Pelánek's uncertainty function). */
  kScale?: number;
  kDecay?: number;
}

export const DEFAULT_ELO: Required<EloOptions> = { kScale: 1, kDecay: 0.05 };

export interface EloState {
  /** Overall ability θ and how many answers it has seen. */
  global: number;
  globalCount: number;
  /** Per-skill ability offsets θ_k and their answer counts. */
  skill: Float64Array;
  skillCount: Uint32Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export class EloModel implements KtPredictor<EloState> {
  readonly options: Required<EloOptions>;

  /**
   * @param skillDifficulty β per skill
   * @param itemDifficulty δ per item, an offset on top of its skill's β (empty without items)
   */
  constructor(
    readonly skillDifficulty: Float64Array,
    readonly itemDifficulty: Float64Array,
    options: EloOptions = {},
  ) {
    this.options = { ...DEFAULT_ELO, ...options };
  }

  get numSkills(): number {
    return this.skillDifficulty.length;
  }

  get numItems(): number {
    return this.itemDifficulty.length;
  }

  /** All difficulties 0: every first answer is predicted at 0.5. */
  static untrained(numSkills: number, numItems = 0, options: EloOptions = {}): EloModel {
    return new EloModel(new Float64Array(numSkills), new Float64Array(numItems), options);
  }

  /**
   * Estimates skill and item difficulties by playing the training answers through the Elo updates
   * (students and questions both rated, each with its own uncertainty-adjusted K), `passes` times.
   */
  static fit(ds: KtDataset, options: EloOptions = {}, passes = 2): EloModel {
    const model = EloModel.untrained(ds.numSkills, ds.numItems, options);
    const skillSeen = new Uint32Array(ds.numSkills);
    const itemSeen = new Uint32Array(ds.numItems);
    for (let pass = 0; pass < passes; pass++) {
      for (const seq of ds.sequences) {
        const state = model.initialState();
        for (let t = 0; t < seq.correct.length; t++) {
          const skill = seq.skills[t];
          const item = ds.numItems && seq.items ? seq.items[t] : undefined;
          const error = seq.correct[t] - model.predictItem(state, skill, item);
          model.skillDifficulty[skill] -= model.k(skillSeen[skill]++) * error;
          if (item !== undefined) model.itemDifficulty[item] -= model.k(itemSeen[item]++) * error;
          model.rate(state, skill, error);
        }
      }
    }
    return model;
  }

  /** Step size after n earlier attempts. */
  k(n: number): number {
    return this.options.kScale / (1 + this.options.kDecay * n);
  }

  initialState(): EloState {
    return { global: 0, globalCount: 0, skill: new Float64Array(this.numSkills), skillCount: new Uint32Array(this.numSkills) };
  }

  private rate(state: EloState, skill: number, error: number): void {
    state.global += this.k(state.globalCount++) * error;
    state.skill[skill] += this.k(state.skillCount[skill]++) * error;
  }

  step(state: EloState, skill: number, item: number | undefined, correct: boolean | number): void {
    this.rate(state, skill, (correct ? 1 : 0) - this.predictItem(state, skill, item));
  }

  predictAll(state: EloState): Float32Array {
    return Float32Array.from(this.skillDifficulty, (beta, k) => sigmoid(state.global + state.skill[k] - beta));
  }

  /** Unknown or absent items count as average items of their skill (δ = 0). */
  predictItem(state: EloState, skill: number, item?: number): number {
    checkSkill(skill, this.numSkills);
    const delta = item !== undefined && item >= 0 && item < this.numItems ? this.itemDifficulty[item] : 0;
    return sigmoid(state.global + state.skill[skill] - this.skillDifficulty[skill] - delta);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export interface ScoredPredictions extends BinaryMetrics {
  labels: Uint8Array;
  preds: Float32Array;
}

/**
 * Scores a predictor the way DKT is scored: each student cut into `windowLength`-step pieces, each
 * piece from a fresh state, every step but a piece's first predicted before it is revealed.
 */
export function evaluatePredictor<S>(predictor: KtPredictor<S>, ds: KtDataset, windowLength = 200): ScoredPredictions {
  const pieces: StudentSequence[] = ds.sequences.flatMap((s) => windows(s, windowLength));
  let n = 0;
  for (const p of pieces) n += Math.max(0, p.correct.length - 1);
  const labels = new Uint8Array(n);
  const preds = new Float32Array(n);
  let at = 0;
  for (const piece of pieces) {
    const state = predictor.initialState();
    for (let t = 0; t < piece.correct.length; t++) {
      const item = piece.items?.[t];
      if (t > 0) {
        labels[at] = piece.correct[t];
        preds[at++] = predictor.predictItem(state, piece.skills[t], item);
      }
      predictor.step(state, piece.skills[t], item, piece.correct[t]);
    }
  }
  return { ...binaryMetrics(labels, preds), labels, preds };
}
