/**
 * Engine benchmark: seconds per training epoch on a public split, and serving latencies.
 *   npx tsx bench/kt-engine.ts [--dataset dkvmn_assist2009_updated] [--fold 1] [--epochs 1]
 *                              [--kernels wasm|js] [--students N (train subset)]
 * Prints one JSON line. Keep runs short on shared machines; compare with the PyTorch reference
 * (../shared/kt-reference/dkt_ref.py) run in the same session, as a ratio.
 */
import { loadDatasetDir, sharedDatasetDir } from '../src/kt/data';
import { KernelKind } from '../src/kt/engine';
import { DktPredictor } from '../src/kt/predict';
import { trainDkt } from '../src/kt/train';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Per-call times in ms of `fn`, after a warm-up. */
function timeCalls(reps: number, fn: () => void): { p50: number; p99: number; mean: number } {
  for (let i = 0; i < Math.min(200, reps); i++) fn();
  const times = new Float64Array(reps);
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times[i] = performance.now() - t0;
  }
  const mean = times.reduce((a, b) => a + b, 0) / reps;
  times.sort();
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  return { p50: round(percentile(times, 0.5)), p99: round(percentile(times, 0.99)), mean: round(mean) };
}

async function main(): Promise<void> {
  const dataset = arg('dataset', 'dkvmn_assist2009_updated');
  const fold = Number(arg('fold', '1'));
  const epochs = Number(arg('epochs', '1'));
  const kernels = arg('kernels', 'wasm') as KernelKind;
  const students = Number(arg('students', '0'));
  const data = loadDatasetDir(sharedDatasetDir(dataset), { fold });
  const train = students > 0 ? { ...data.train, sequences: data.train.sequences.slice(0, students) } : data.train;

  const result = await trainDkt(train, data.valid, { variant: 'skill', maxEpochs: epochs, kernels }, (p) => {
    if (p.validAuc !== undefined || p.batch % 10 === 0) {
      process.stderr.write(`epoch ${p.epoch} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}${p.validAuc !== undefined ? ` valid AUC ${p.validAuc.toFixed(4)}` : ''} ${p.elapsedSec.toFixed(1)}s\n`);
    }
  });

  const predictor = new DktPredictor(result.model, { kernels });
  const S = result.model.config.numSkills;
  const state = predictor.initialState();
  let t = 0;
  const update = timeCalls(3000, () => {
    predictor.step(state, t % S, undefined, t % 3 ? 1 : 0);
    predictor.predictAll(state);
    t++;
  });
  const stepOnly = timeCalls(3000, () => predictor.step(state, t++ % S, undefined, 1));
  const states = Array.from({ length: 256 }, () => predictor.initialState());
  const skills = states.map((_, i) => i % S);
  const correct = states.map((_, i) => i % 2);
  const classStep = timeCalls(200, () => {
    predictor.stepBatch(states, skills, null, correct);
    predictor.predictBatch(states);
  });
  const classStepOnly = timeCalls(200, () => predictor.stepBatch(states, skills, null, correct));

  console.log(
    JSON.stringify({
      dataset,
      fold,
      kernels,
      trainStudents: train.sequences.length,
      epochs: result.history.length,
      secPerEpoch: Math.round(result.secondsPerEpoch * 100) / 100,
      validAuc: Math.round(result.bestValidAuc * 1e4) / 1e4,
      serving: { updateAndPredictAllMs: update, stepOnlyMs: stepOnly, class256StepAndPredictMs: classStep, class256StepOnlyMs: classStepOnly },
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
