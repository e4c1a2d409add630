import { expect } from 'chai';
import { accuracy, auc, binaryMetrics, expectedCalibrationError, reliabilityBins, rmse } from '../../src/kt/metrics';

/** Pairwise definition of AUC: P(pos > neg) + ½ P(pos = neg), O(n²). */
function bruteForceAuc(labels: number[], preds: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j]) continue;
      pairs++;
      if (preds[i] > preds[j]) wins += 1;
      else if (preds[i] === preds[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** Small deterministic generator so the random cases are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('kt/metrics', () => {
  const labels = [1, 0, 1, 0, 1];
  const preds = [0.9, 0.1, 0.4, 0.4, 0.6];

  it('auc counts a tied positive/negative pair as one half', () => {
    // 6 positive-negative pairs: five won outright, (0.4, 0.4) tied -> 5.5 / 6.
    expect(auc(labels, preds)).to.be.closeTo(5.5 / 6, 1e-12);
  });

  it('auc is 1 for a perfect ranking, 0 for a reversed one, 0.5 when everything ties', () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])).to.equal(1);
    expect(auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4])).to.equal(0);
    expect(auc([1, 0, 1, 0], [0.7, 0.7, 0.7, 0.7])).to.equal(0.5);
  });

  it('auc is NaN when a class is missing, and rejects mismatched lengths and NaN predictions', () => {
    expect(auc([1, 1], [0.2, 0.3])).to.be.NaN;
    expect(() => auc([1, 0], [0.5])).to.throw(/2 labels but 1 predictions/);
    expect(() => auc([1, 0], [0.5, NaN])).to.throw(/NaN/);
  });

  it('auc matches the brute-force pairwise count on random vectors with ties', () => {
    const rand = lcg(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + Math.floor(rand() * 150);
      const y: number[] = [];
      const p: number[] = [];
      for (let i = 0; i < n; i++) {
        // Coarse predictions (one decimal) force many ties; labels correlate with them.
        const q = Math.round(rand() * 10) / 10;
        p.push(q);
        y.push(rand() < 0.3 + 0.4 * q ? 1 : 0);
      }
      expect(auc(y, p)).to.be.closeTo(bruteForceAuc(y, p), 1e-12);
    }
  });

  it('accuracy thresholds at 0.5 by default, inclusive, and takes another threshold', () => {
    expect(accuracy(labels, preds)).to.be.closeTo(4 / 5, 1e-12);
    expect(accuracy([1], [0.5])).to.equal(1);
    expect(accuracy(labels, preds, 0.95)).to.be.closeTo(2 / 5, 1e-12);
  });

  it('rmse is the root of the mean squared gap to the labels', () => {
    // squared errors 0.01, 0.01, 0.36, 0.16, 0.16 -> mean 0.14
    expect(rmse(labels, preds)).to.be.closeTo(Math.sqrt(0.14), 1e-12);
  });

  it('binaryMetrics bundles the three with the count', () => {
    const m = binaryMetrics(Float32Array.from(labels), Float32Array.from(preds));
    expect(m.n).to.equal(5);
    expect(m.auc).to.be.closeTo(5.5 / 6, 1e-6);
    expect(m.acc).to.be.closeTo(0.8, 1e-12);
    expect(m.rmse).to.be.closeTo(Math.sqrt(0.14), 1e-6);
  });

  it('reliabilityBins puts 1.0 in the last bin and reports per-bin means', () => {
    const bins = reliabilityBins([0, 1, 1, 1], [0.1, 0.15, 0.9, 1.0], 10);
    expect(bins).to.have.length(10);
    expect(bins[1]).to.include({ count: 2, fracPositive: 0.5 });
    expect(bins[1].meanPred).to.be.closeTo(0.125, 1e-12);
    expect(bins[9]).to.include({ count: 2, fracPositive: 1 });
    expect(bins[0].count).to.equal(0);
    expect(bins[0].meanPred).to.be.NaN;
  });

  it('expectedCalibrationError weights each bin gap by its share', () => {
    // bin 1: mean 0.1 vs observed 0.5 (half the data); bin 9: mean 0.9 vs observed 1.
    expect(expectedCalibrationError([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9])).to.be.closeTo(0.5 * 0.4 + 0.5 * 0.1, 1e-12);
    expect(expectedCalibrationError([0, 1], [0.5, 0.5], 1)).to.be.closeTo(0, 1e-12);
  });
});
