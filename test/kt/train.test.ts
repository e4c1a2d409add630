import { expect } from 'chai';
import { Rng } from '../../src/kt/engine/random';
import { auc } from '../../src/kt/metrics';
import { scoreDkt, trainDkt, TrainProgress } from '../../src/kt/train';
import { bktSkills, simulateBkt } from './sim';

describe('kt training', function () {
  this.timeout(30000);
  const skills = bktSkills(8, new Rng(1));
  const train = simulateBkt('train', { students: 300, steps: 60, skills, seed: 2 });
  const valid = simulateBkt('valid', { students: 100, steps: 60, skills, seed: 3 });

  // How fast it learns is bench/kt.ts's business; here only what it learns.
  it('learns BKT-simulated students to validation AUC ≥ 0.75 in 8 epochs, loss falling, best weights restored', async () => {
    const progress: TrainProgress[] = [];
    const result = await trainDkt(train, valid, { hidden: 32, maxEpochs: 8, patience: 3, batchSize: 32, adam: { learningRate: 5e-3 } }, (p) => progress.push(p));
    expect(result.variant).to.equal('skill');
    expect(result.bestValidAuc).to.be.at.least(0.75);
    const losses = result.history.map((h) => h.loss);
    expect(losses[losses.length - 1]).to.be.lessThan(losses[0]);
    // The returned weights are the best epoch's: scoring them again gives that epoch's AUC.
    const scored = scoreDkt(result.model, valid);
    expect(auc(scored.labels, scored.preds)).to.be.closeTo(result.bestValidAuc, 1e-6);
    expect(result.history[result.bestEpoch - 1].validAuc).to.equal(result.bestValidAuc);
    // Progress: every batch of every epoch, then the epoch's validation AUC.
    const ends = progress.filter((p) => p.validAuc !== undefined);
    expect(ends.map((p) => p.epoch)).to.deep.equal(result.history.map((h) => h.epoch));
    expect(progress[0]).to.include({ epoch: 1, batch: 1 });
    expect(progress.every((p) => p.etaSec >= 0 && p.batch <= p.batches)).to.equal(true);
  });

  it('is reproducible from its seed', async () => {
    const small = { ...train, sequences: train.sequences.slice(0, 64) };
    const opts = { hidden: 8, maxEpochs: 2, batchSize: 16, seed: 5 };
    const a = await trainDkt(small, valid, opts);
    const b = await trainDkt(small, valid, opts);
    expect(Buffer.from(a.model.params.buffer).equals(Buffer.from(b.model.params.buffer))).to.equal(true);
    const c = await trainDkt(small, valid, { ...opts, seed: 6 });
    expect(Buffer.from(c.model.params.buffer).equals(Buffer.from(a.model.params.buffer))).to.equal(false);
  });

  it('with item ids trains both variants, and the item-aware one wins when items differ in difficulty', async () => {
    const itemShift = [-2, -0.7, 0.7, 2];
    const sim = (name: string, students: number, seed: number) => simulateBkt(name, { students, steps: 60, skills: skills.slice(0, 4), itemsPerSkill: 4, itemShift, seed });
    const result = await trainDkt(sim('train', 300, 7), sim('valid', 100, 8), { hidden: 16, maxEpochs: 6, patience: 2, batchSize: 32, adam: { learningRate: 1e-2 } });
    expect(result.candidates.map((c) => c.variant)).to.deep.equal(['skill', 'item']);
    const [skillOnly, itemAware] = result.candidates;
    expect(itemAware.bestValidAuc).to.be.greaterThan(skillOnly.bestValidAuc + 0.02);
    expect(result.variant).to.equal('item');
    expect(result.model.config.numItems).to.equal(16);
  });
});
