import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseSkills, dktLearners, type DktLearners } from '../../bench/dkt-student';
import { ITEMS_PER_SKILL, PREREQS } from '../../bench/practice-sim';
import { createDkt, dktConfig } from '../../src/kt/dkt';
import type { AnswerHistory, DktState } from '../../src/kt/predict';
import type { StudentSequence } from '../../src/kt/types';
import { mulberry32 } from '../../src/random';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/** The bench's bank: 8 items per skill, in skill order. */
const skillOf = PREREQS.flatMap((_, s) => Array.from({ length: ITEMS_PER_SKILL }, () => s));
const itemsOf = (skill: number) => skillOf.flatMap((s, i) => (s === skill ? [i] : []));
/** A random-initialised network (no dataset): 8 skills, the bench's 6 mapped onto 1..6; 0 and 7 stay for warm-ups. */
const model = createDkt(dktConfig({ numSkills: 8, hidden: 16, dropout: 0, seed: 3 }));
const SKILL_MAP = [1, 2, 3, 4, 5, 6];
/** A constant "random" stream: 0 makes every answer right (0 < chance), 0.999999 every answer wrong. */
const always = (x: number) => () => x;
const history = (skills: number[], correct: number[]): AnswerHistory => ({ skills: Int32Array.from(skills), correct: Uint8Array.from(correct) });

describe('bench/dkt-student: simulated students driven by a DKT', () => {
  let gen: DktLearners;
  /** An item's difficulty in `g` (one without warm-ups): chance at the initial state = sigmoid(logit(P0) − offset). */
  const offset = (g: DktLearners, item: number) => {
    const p0 = g.predictor.predictItem(g.predictor.initialState(), SKILL_MAP[skillOf[item]]);
    return logit(p0) - logit(g.student(always(0.5), skillOf).chance(item));
  };
  /** What chanceOnNew must be, from a state, computed with the predictor directly. */
  const expected = (g: DktLearners, state: DktState, skill: number, seen: ReadonlySet<number>, difficulty: (i: number) => number) => {
    const fresh = itemsOf(skill).filter((i) => !seen.has(i));
    const pool = fresh.length ? fresh : itemsOf(skill);
    const z = logit(g.predictor.predictItem(state, SKILL_MAP[skill]));
    return pool.reduce((sum, i) => sum + sigmoid(z - difficulty(i)), 0) / pool.length;
  };

  before(async () => {
    gen = await dktLearners('test DKT', { model, skillMap: SKILL_MAP });
  });

  it('gives the same answers for the same seed and different ones for another', () => {
    const run = (seed: number) => {
      const rnd = mulberry32(seed);
      const answers: boolean[] = [];
      for (let n = 0; n < 3; n++) {
        const st = gen.student(rnd, skillOf);
        for (let t = 0; t < 40; t++) answers.push(st.answer((t * 7) % skillOf.length));
      }
      return answers;
    };
    expect(run(11)).to.deep.equal(run(11));
    expect(run(11)).to.not.deep.equal(run(12));
  });

  it('draws the items\' difficulties per bank item, the same for every student, with SD about difficultySd', async () => {
    const offsets = skillOf.map((_, i) => offset(gen, i));
    expect(skillOf.map((_, i) => offset(gen, i))).to.deep.equal(offsets);
    const sd = Math.sqrt(offsets.reduce((a, x) => a + x * x, 0) / offsets.length);
    expect(sd).to.be.within(0.3, 0.75);
    const wide = await dktLearners('wide', { model, skillMap: SKILL_MAP, difficultySd: 2 });
    expect(offset(wide, 5)).to.be.closeTo(4 * offsets[5], 1e-4);
  });

  it('answers nearly always wrong on very hard items and right on very easy ones', async () => {
    for (const [shift, wantRight] of [[20, 0], [-20, 1]] as const) {
      const g = await dktLearners('shifted', { model, skillMap: SKILL_MAP, difficulty: () => shift });
      const rnd = mulberry32(4);
      let right = 0;
      let n = 0;
      for (let k = 0; k < 20; k++) {
        const st = g.student(rnd, skillOf);
        for (let t = 0; t < 25; t++, n++) right += Number(st.answer((k + 5 * t) % skillOf.length));
      }
      expect(right / n, `offset ${shift}`).to.equal(wantRight);
    }
  });

  it('answers right at the rate of its chance, which is the model\'s shifted by the item\'s difficulty', async () => {
    // Students warmed up by different histories (so their chances differ), each answering one item.
    const warmups = Array.from({ length: 50 }, (_, k) => {
      const r = mulberry32(100 + k);
      const len = 1 + Math.floor(r() * 20);
      return history(Array.from({ length: len }, () => (r() < 0.5 ? 0 : 7)), Array.from({ length: len }, () => Number(r() < 0.3 + 0.014 * k)));
    });
    const g = await dktLearners('warm', { model, skillMap: SKILL_MAP, warmups, difficulty: (i) => 0.1 * (i % 5) - 0.2 });
    const rnd = mulberry32(9);
    let chances = 0;
    let right = 0;
    const N = 4000;
    const distinct = new Set<string>();
    for (let n = 0; n < N; n++) {
      const st = g.student(rnd, skillOf);
      const item = n % skillOf.length;
      distinct.add(st.chance(0).toFixed(6));
      const c = st.chance(item);
      chances += c;
      right += Number(st.answer(item));
    }
    expect(distinct.size, 'warm-ups make students differ').to.be.greaterThan(20);
    // Binomial SD of the rate ≤ 0.5/√N ≈ 0.008: 0.03 is almost 4 SD.
    expect(right / N).to.be.closeTo(chances / N, 0.03);
    // And the chance is the model's own: a fresh student (no warm-up) is at the initial state.
    const st = (await dktLearners('cold', { model, skillMap: SKILL_MAP, difficulty: (i) => 0.1 * (i % 5) - 0.2 })).student(mulberry32(1), skillOf);
    const init = g.predictor.initialState();
    for (const item of [0, 9, 20, 47]) {
      expect(st.chance(item)).to.be.closeTo(sigmoid(logit(g.predictor.predictItem(init, SKILL_MAP[skillOf[item]])) - (0.1 * (item % 5) - 0.2)), 1e-9);
    }
  });

  it('chanceOnNew leaves the state alone: same value twice, same chances and answers as a twin who never asked', () => {
    const asker = gen.student(mulberry32(21), skillOf);
    const twin = gen.student(mulberry32(21), skillOf);
    const seen = new Set<number>();
    const answers: [boolean[], boolean[]] = [[], []];
    for (let t = 0; t < 30; t++) {
      const item = (t * 11) % skillOf.length;
      for (let s = 0; s < PREREQS.length; s++) {
        const v = asker.chanceOnNew(s, seen);
        expect(asker.chanceOnNew(s, seen)).to.equal(v);
      }
      expect(asker.chance(item)).to.equal(twin.chance(item));
      answers[0].push(asker.answer(item));
      answers[1].push(twin.answer(item));
      seen.add(item);
    }
    expect(answers[0]).to.deep.equal(answers[1]);
  });

  it('moves every skill\'s chance after an answer exactly as the model steps, and a right answer differently from a wrong one', async () => {
    const difficulty = (i: number) => 0.15 * (i % 4) - 0.3;
    const g = await dktLearners('exact', { model, skillMap: SKILL_MAP, difficulty });
    const item = itemsOf(2)[3];
    const seen = new Set([item]);
    const after: Record<string, number[]> = {};
    for (const [label, x, correct] of [['right', 0, 1], ['wrong', 0.999999, 0]] as const) {
      const st = g.student(always(x), skillOf);
      const init = g.predictor.initialState();
      for (let s = 0; s < PREREQS.length; s++) expect(st.chanceOnNew(s, new Set())).to.be.closeTo(expected(g, init, s, new Set(), difficulty), 1e-9);
      expect(st.answer(item), label).to.equal(correct === 1);
      const stepped = g.predictor.step(g.predictor.initialState(), SKILL_MAP[2], undefined, correct);
      after[label] = PREREQS.map((_, s) => st.chanceOnNew(s, seen));
      for (let s = 0; s < PREREQS.length; s++) expect(after[label][s], `${label}, skill ${s}`).to.be.closeTo(expected(g, stepped, s, seen, difficulty), 1e-9);
    }
    // The answer reached the state (else both would still be the initial chances), and its value mattered.
    const moved = PREREQS.map((_, s) => Math.abs(after.right[s] - after.wrong[s]));
    expect(Math.max(...moved)).to.be.greaterThan(1e-3);
  });

  it('chanceOnNew averages over the skill\'s unseen items, and over all of them once all are seen', async () => {
    const difficulty = (i: number) => 0.2 * i - 1;
    const g = await dktLearners('pool', { model, skillMap: SKILL_MAP, difficulty });
    const st = g.student(mulberry32(3), skillOf);
    const z = logit(g.predictor.predictItem(g.predictor.initialState(), SKILL_MAP[1]));
    const mean = (items: number[]) => items.reduce((a, i) => a + sigmoid(z - difficulty(i)), 0) / items.length;
    const items = itemsOf(1);
    expect(st.chanceOnNew(1, new Set())).to.be.closeTo(mean(items), 1e-9);
    expect(st.chanceOnNew(1, new Set(items.slice(0, 5)))).to.be.closeTo(mean(items.slice(5)), 1e-9);
    expect(st.chanceOnNew(1, new Set(items))).to.be.closeTo(mean(items), 1e-9);
    expect(st.chanceOnNew(1, new Set(items.slice(0, 5)))).to.not.be.closeTo(mean(items), 1e-3);
  });

  it('warms a student up on a real history\'s answers outside the mapped skills, at most `warmup` of them', async () => {
    const only = history([1, 2, 3, 1], [1, 1, 0, 1]); // mapped skills only: nothing replayed
    const mixed = history([0, 1, 7, 7, 2, 0, 7], [1, 0, 1, 0, 1, 1, 1]);
    const cold = (await dktLearners('only', { model, skillMap: SKILL_MAP, warmups: [only] })).student(mulberry32(1), skillOf);
    expect(cold.warmedUp).to.equal(0);
    expect(cold.chanceOnNew(0, new Set())).to.equal(gen.student(mulberry32(1), skillOf).chanceOnNew(0, new Set()));
    const g = await dktLearners('mixed', { model, skillMap: SKILL_MAP, warmups: [mixed], warmup: 3 });
    const st = g.student(mulberry32(1), skillOf);
    expect(st.warmedUp).to.equal(3);
    const state = g.predictor.stateFromHistory(history([0, 7, 7], [1, 1, 0]));
    for (let s = 0; s < PREREQS.length; s++) expect(st.chanceOnNew(s, new Set())).to.be.closeTo(expected(g, state, s, new Set(), (i) => offset(gen, i)), 1e-6);
    expect((await dktLearners('none', { model, skillMap: SKILL_MAP, warmups: [mixed], warmup: 0 })).student(mulberry32(1), skillOf).warmedUp).to.equal(0);
  });

  it('refuses a model without a usable skill map, and says which dataset folder is missing', async () => {
    await expectRejection(dktLearners('x', { model }), /skillMap/);
    await expectRejection(dktLearners('x', { model, skillMap: [1, 2, 3, 4, 5] }), /has 5 skills/);
    await expectRejection(dktLearners('x', { model, skillMap: [1, 2, 3, 4, 5, 5] }), /twice/);
    await expectRejection(dktLearners('x', { model, skillMap: [1, 2, 3, 4, 5, 8] }), /outside/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-no-shared-'));
    const before = process.env.JEJAK_SHARED_DIR;
    process.env.JEJAK_SHARED_DIR = empty;
    try {
      await expectRejection(dktLearners('x', { dataset: 'no_such_dataset' }), new RegExp(`${path.join(empty, 'datasets', 'no_such_dataset').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is missing`));
    } finally {
      if (before === undefined) delete process.env.JEJAK_SHARED_DIR;
      else process.env.JEJAK_SHARED_DIR = before;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('chooseSkills maps the bench skills onto frequent real skills whose practice order follows the prerequisites', () => {
    // Real skills 10..15 are met in the order 12, 10, 15, 11, 13, 14 by most students (some swap
    // neighbours); skill 3 comes first for everyone but is practised by too few students to count.
    const planted = [12, 10, 15, 11, 13, 14];
    const r = mulberry32(8);
    const seqs: StudentSequence[] = Array.from({ length: 300 }, (_, n) => {
      const order = [...planted];
      for (let i = 0; i + 1 < order.length; i++) if (r() < 0.15) [order[i], order[i + 1]] = [order[i + 1], order[i]];
      const skills = [...(n < 10 ? [3, 3] : []), ...order.flatMap((k) => Array.from({ length: 3 + Math.floor(r() * 5) }, () => k))];
      return { student: `s${n}`, skills: Int32Array.from(skills), correct: Uint8Array.from(skills, () => Number(r() < 0.6)) };
    });
    const map = chooseSkills(seqs, 16, 7);
    expect(new Set(map).size).to.equal(6);
    expect(map).to.not.include(3);
    PREREQS.forEach((ps, s) => ps.forEach((q) => expect(planted.indexOf(map[q]), `${q} → ${s}`).to.be.lessThan(planted.indexOf(map[s]))));
    expect(map[0]).to.equal(12);
    expect(map[5]).to.equal(14);
  });
});

async function expectRejection(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${pattern}`);
}
