import { expect } from 'chai';
import { FAIRNESS_RULE, fairnessReport, type Observation } from '../../src/privacy/fairness';

describe('fairness report', () => {
  // Class 7A: predictions rank answers perfectly and are well calibrated. Class 7B: predictions are
  // the opposite of what happened. Class 7C: too few answers to flag, however bad.
  const obs: Observation[] = [];
  for (let i = 0; i < 100; i++) {
    const correct = i % 2;
    obs.push({ contextId: 'c1', group: '7A', correct, predicted: correct ? 0.9 : 0.1 });
    obs.push({ contextId: 'c1', group: '7B', correct, predicted: correct ? 0.4 : 0.6 });
  }
  for (let i = 0; i < 10; i++) obs.push({ contextId: 'c1', group: '7C', correct: i % 2, predicted: i % 2 ? 0.1 : 0.9 });
  for (let i = 0; i < 20; i++) obs.push({ contextId: 'c2', group: null, correct: i % 2, predicted: 0.5 });

  it('reports AUC and calibration per course and group, and flags the group the model serves clearly worse', () => {
    const [c1, c2] = fairnessReport(obs);
    expect(c1.contextId).to.equal('c1');
    expect(c1.answers).to.equal(210);
    const g = Object.fromEntries(c1.groups.map((x) => [x.group, x]));
    expect(g['7A'].auc).to.equal(1);
    expect(g['7A'].ece).to.be.closeTo(0.1, 1e-9);
    expect(g['7A'].flags).to.deep.equal([]);
    expect(g['7B'].auc).to.equal(0);
    expect(g['7B'].ece).to.be.closeTo(0.6, 1e-9);
    expect(g['7B'].flags).to.deep.equal(['auc', 'calibration']);
    expect(g['7C'].answers).to.be.lessThan(FAIRNESS_RULE.minAnswers);
    expect(g['7C'].flags, 'too small to flag').to.deep.equal([]);
    expect(c1.bins).to.have.length(10);
    expect(c2.groups).to.deep.equal([]);
    expect(Number.isNaN(c2.auc)).to.equal(false);
    expect(c2.auc).to.equal(0.5);
  });
});
