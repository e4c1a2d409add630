/**
 * Fits the ability filter's defaults (src/kt/estimate.ts ABILITY_DEFAULTS) on public data: ASSISTments
 * 2009 (akt_assist2009_pid, fold 1). A bank with no attempts yet knows nothing of its items, so every
 * item gets the default difficulty here too; the grid search picks priorSd, drift and difficulty that
 * minimise the log-loss of every next answer of the training fold (each student's sequence from a
 * fresh state, as Jejak serves a new student), and reports the held-out test fold's log-loss with them.
 *
 *   npx tsx bench/estimate-defaults.ts [--data ../shared/datasets/akt_assist2009_pid]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AbilityFilter, ABILITY_DEFAULTS, type AbilityParams } from '../src/kt/estimate';
import { loadDatasetDir } from '../src/kt/data/dataset';
import type { KtDataset } from '../src/kt/types';

const { values: args } = parseArgs({ options: { data: { type: 'string', default: path.resolve(__dirname, '../../shared/datasets/akt_assist2009_pid') } } });

/** Mean log-loss and the first answers' mean prediction and success, for one setting. */
function score(ds: KtDataset, params: AbilityParams): { logLoss: number; firstPredicted: number; firstActual: number } {
  const filter = new AbilityFilter({ prerequisites: new Map(), item: new Map(), skillItems: new Map() }, params);
  let loss = 0, n = 0, firstP = 0, firstY = 0, firsts = 0;
  for (const seq of ds.sequences) {
    const state = filter.initial();
    for (let t = 0; t < seq.correct.length; t++) {
      const skill = seq.skills[t];
      const item = seq.items ? seq.items[t] : -1;
      const p = Math.min(1 - 1e-6, Math.max(1e-6, filter.itemSuccess(state, item, [skill])));
      const y = seq.correct[t];
      loss -= y ? Math.log(p) : Math.log(1 - p);
      n++;
      if (!state.has(skill)) {
        firstP += p;
        firstY += y;
        firsts++;
      }
      filter.step(state, item, [skill], y === 1);
    }
  }
  return { logLoss: loss / n, firstPredicted: firstP / firsts, firstActual: firstY / firsts };
}

function main(): void {
  const { train, test } = loadDatasetDir(args.data!, { fold: 1 });
  let best: { params: AbilityParams; logLoss: number } | undefined;
  for (const priorSd of [0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2.2]) {
    for (const drift of [0, 0.02, 0.04, 0.06, 0.1, 0.15, 0.25]) {
      for (const difficulty of [-1.4, -1.2, -1, -0.8, -0.6, -0.4, -0.2, 0]) {
        const params = { ...ABILITY_DEFAULTS, priorSd, drift, difficulty };
        const { logLoss } = score(train, params);
        if (!best || logLoss < best.logLoss) best = { params, logLoss };
      }
    }
  }
  const chosen = score(test, best!.params);
  const current = score(test, ABILITY_DEFAULTS);
  console.log(JSON.stringify({
    data: `${args.data} (fitted on train fold 1: ${train.sequences.length} students; reported on test fold 1: ${test.sequences.length} students, ${test.sequences.reduce((a, s) => a + s.correct.length, 0)} answers)`,
    best: { priorSd: best!.params.priorSd, drift: best!.params.drift, difficulty: best!.params.difficulty, ...chosen },
    inCode: { priorSd: ABILITY_DEFAULTS.priorSd, drift: ABILITY_DEFAULTS.drift, difficulty: ABILITY_DEFAULTS.difficulty, ...current },
  }, null, 2));
}

main();
