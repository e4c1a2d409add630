/**
 * The held-out attempts a candidate model and the bank's active model are compared on: the most
 * recent ones, by time, that neither model was trained on. Both are scored on the very same attempt
 * ids, each prediction made from the student's answers before that attempt (trained-on ones included,
 * as the tracer would have them), so the two AUCs answer the same question.
 */
import { auc } from './metrics';
import type { LoadedModel } from './models';

/** Where the held-out attempts begin, in the order attempts are folded (created_at, then id). */
export interface Cutoff {
  at: number;
  id: number;
}

/** One attempt of a bank, in the bank's id space. */
export interface BankAttempt {
  id: number;
  /** Pseudonym of the (course, student). */
  student: string;
  /** The item's primary skill (database id), as tracer.ts folds answers. */
  skillId: number;
  itemId: number;
  correct: boolean;
  at: number;
}

/** True when the attempt is at or after the cutoff, i.e. held out. */
export const isHeldOut = (a: { at: number; id: number }, from: Cutoff): boolean => a.at > from.at || (a.at === from.at && a.id >= from.id);

/** The later of two cutoffs. */
export const laterCutoff = (a: Cutoff, b: Cutoff): Cutoff => (isHeldOut(a, b) ? a : b);

/**
 * Where the most recent `fraction` of `attempts` (sorted by at, then id) begins; never before
 * `notBefore` (the active model's own training cutoff: it must not be scored on what it learnt from).
 */
export function holdoutCutoff(attempts: readonly BankAttempt[], fraction: number, notBefore: Cutoff | null): Cutoff {
  const first = attempts[Math.min(attempts.length - 1, Math.floor(attempts.length * (1 - fraction)))];
  const own = first ? { at: first.at, id: first.id } : { at: Number.MAX_SAFE_INTEGER, id: 0 };
  return notBefore ? laterCutoff(own, notBefore) : own;
}

export interface HoldoutScore {
  /** The held-out attempts scored, in fold order. */
  attemptIds: number[];
  /** AUC of the model's P(correct) on them (NaN when they are all right or all wrong). */
  auc: number;
}

/**
 * Scores a model on the attempts from `from` on. An attempt on a skill the model does not know is
 * predicted 0.5 (the model has nothing to say about it), so every model is scored on the same ids.
 */
export function scoreOnHoldout(model: Pick<LoadedModel, 'predictor' | 'skillIndex' | 'itemIndex'>, attempts: readonly BankAttempt[], from: Cutoff): HoldoutScore {
  const p = model.predictor;
  const states = new Map<string, ReturnType<typeof p.initialState>>();
  const attemptIds: number[] = [];
  const labels: number[] = [];
  const preds: number[] = [];
  for (const a of attempts) {
    let state = states.get(a.student);
    if (!state) states.set(a.student, (state = p.initialState()));
    const skill = model.skillIndex.get(a.skillId);
    const item = model.itemIndex.get(a.itemId);
    if (isHeldOut(a, from)) {
      attemptIds.push(a.id);
      labels.push(a.correct ? 1 : 0);
      preds.push(skill === undefined ? 0.5 : p.predictItem(state, skill, item));
    }
    if (skill !== undefined) p.step(state, skill, item, a.correct);
  }
  return { attemptIds, auc: auc(labels, preds) };
}
