/** Simulated students for training tests: BKT per skill, optionally with per-item difficulty. */
import { Rng } from '../../src/kt/engine/random';
import type { KtDataset, StudentSequence } from '../../src/kt/types';

export interface BktSkill {
  init: number;
  learn: number;
  guess: number;
  slip: number;
}

export interface SimOptions {
  students: number;
  steps: number;
  skills: BktSkill[];
  /** Items per skill (0 = no item ids). Item k of a skill shifts the answer's log-odds by itemShift[k]. */
  itemsPerSkill?: number;
  itemShift?: number[];
  /** Answers in a row on one skill before switching (skill-builder style practice). */
  run?: number;
  seed: number;
}

const logit = (p: number): number => Math.log(p / (1 - p));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export function simulateBkt(name: string, o: SimOptions): KtDataset {
  const rng = new Rng(o.seed);
  const S = o.skills.length;
  const perSkill = o.itemsPerSkill ?? 0;
  const run = o.run ?? 5;
  const sequences: StudentSequence[] = [];
  for (let s = 0; s < o.students; s++) {
    const known = o.skills.map((k) => rng.next() < k.init);
    const skills = new Int32Array(o.steps);
    const correct = new Uint8Array(o.steps);
    const items = perSkill ? new Int32Array(o.steps) : undefined;
    let skill = rng.int(S);
    for (let t = 0; t < o.steps; t++) {
      if (t % run === 0) skill = rng.int(S);
      const p = o.skills[skill];
      let pCorrect = known[skill] ? 1 - p.slip : p.guess;
      if (items && o.itemShift) {
        const k = rng.int(perSkill);
        items[t] = skill * perSkill + k;
        pCorrect = sigmoid(logit(pCorrect) + o.itemShift[k]);
      }
      skills[t] = skill;
      correct[t] = rng.next() < pCorrect ? 1 : 0;
      if (!known[skill] && rng.next() < p.learn) known[skill] = true;
    }
    sequences.push({ student: `${name}-${s}`, skills, correct, items });
  }
  return { name, numSkills: S, numItems: perSkill * S, sequences };
}

/** A few skills of different difficulty and learning rate. */
export function bktSkills(count: number, rng: Rng): BktSkill[] {
  return Array.from({ length: count }, () => ({
    init: 0.1 + 0.4 * rng.next(),
    learn: 0.1 + 0.2 * rng.next(),
    guess: 0.1 + 0.15 * rng.next(),
    slip: 0.05 + 0.1 * rng.next(),
  }));
}
