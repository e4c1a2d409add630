/**
 * Binary-prediction metrics for knowledge tracing: AUC, accuracy, RMSE and calibration.
 * Labels are 0/1 (anything non-zero counts as 1); predictions are probabilities.
 */

function checkPair(labels: ArrayLike<number>, preds: ArrayLike<number>): void {
  if (labels.length !== preds.length) {
    throw new Error(`metrics: ${labels.length} labels but ${preds.length} predictions`);
  }
}

/**
 * Area under the ROC curve by the Mann–Whitney statistic: the probability that a random positive
 * gets a higher prediction than a random negative, ties counting one half (average ranks).
 * O(n log n). NaN when either class is absent, since the AUC is undefined there.
 */
export function auc(labels: ArrayLike<number>, preds: ArrayLike<number>): number {
  checkPair(labels, preds);
  const n = preds.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(preds[i])) throw new Error(`metrics: prediction ${i} is NaN`);
    order[i] = i;
  }
  order.sort((a, b) => preds[a] - preds[b]);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && preds[order[end]] === preds[order[start]]) end++;
    // Ranks start+1..end share their mean rank; only the positives in the group contribute.
    const meanRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (labels[order[k]]) {
        positives++;
        positiveRankSum += meanRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Share of predictions on the right side of `threshold` (a prediction equal to it counts as 1). */
export function accuracy(labels: ArrayLike<number>, preds: ArrayLike<number>, threshold = 0.5): number {
  checkPair(labels, preds);
  let right = 0;
  for (let i = 0; i < preds.length; i++) {
    if (preds[i] >= threshold === Boolean(labels[i])) right++;
  }
  return preds.length ? right / preds.length : NaN;
}

/** Root mean squared error between the 0/1 labels and the predicted probabilities. */
export function rmse(labels: ArrayLike<number>, preds: ArrayLike<number>): number {
  checkPair(labels, preds);
  let sum = 0;
  for (let i = 0; i < preds.length; i++) {
    const d = (labels[i] ? 1 : 0) - preds[i];
    sum += d * d;
  }
  return preds.length ? Math.sqrt(sum / preds.length) : NaN;
}

export interface BinaryMetrics {
  auc: number;
  acc: number;
  rmse: number;
  /** Number of scored predictions. */
  n: number;
}

/** The metrics every knowledge-tracing report carries, in one call. */
export function binaryMetrics(labels: ArrayLike<number>, preds: ArrayLike<number>): BinaryMetrics {
  return { auc: auc(labels, preds), acc: accuracy(labels, preds), rmse: rmse(labels, preds), n: preds.length };
}

export interface ReliabilityBin {
  /** Prediction range [lo, hi) of the bin; the last bin includes 1. */
  lo: number;
  hi: number;
  count: number;
  /** Mean prediction in the bin (NaN when empty). */
  meanPred: number;
  /** Observed share of correct answers in the bin (NaN when empty). */
  fracPositive: number;
}

/** Equal-width reliability diagram over [0, 1]: predicted vs observed rate per bin. */
export function reliabilityBins(labels: ArrayLike<number>, preds: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  checkPair(labels, preds);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`metrics: bins must be a positive integer, got ${bins}`);
  const count = new Float64Array(bins);
  const predSum = new Float64Array(bins);
  const posSum = new Float64Array(bins);
  for (let i = 0; i < preds.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(preds[i] * bins)));
    count[b]++;
    predSum[b] += preds[i];
    if (labels[i]) posSum[b]++;
  }
  return Array.from(count, (c, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: c,
    meanPred: c ? predSum[b] / c : NaN,
    fracPositive: c ? posSum[b] / c : NaN,
  }));
}

/** Expected calibration error: the count-weighted mean gap |meanPred − fracPositive| over the bins. */
export function expectedCalibrationError(labels: ArrayLike<number>, preds: ArrayLike<number>, bins = 10): number {
  const total = preds.length;
  if (!total) return NaN;
  let ece = 0;
  for (const bin of reliabilityBins(labels, preds, bins)) {
    if (bin.count) ece += (bin.count / total) * Math.abs(bin.meanPred - bin.fracPositive);
  }
  return ece;
}
