/**
 * Simulated students driven by a DKT trained on real ASSISTments 2009 answers (issue 14 item 4b).
 *
 * The bktLearners of practice-sim.ts follow rules the bench made up; these follow what a network
 * learnt from 2,000-odd real students: how a right or wrong answer moves the chance on the same
 * skill and on the others, and how much students differ before they start.
 *
 *   - Training: a skill-level DKT (the project's own trainDkt) on the TRAINING file of one fold of
 *     ../shared/datasets/<dataset> (default dkvmn_assist2009_updated, fold 1), early-stopped on that
 *     fold's validation file, capped in epochs and seconds. The model is cached under
 *     os.tmpdir()/jejak-dkt-student/<key>/ in the project's TF.js format (saveTfjsModel), keyed by the
 *     dataset, its training file and the training options, so later runs load it instead.
 *   - Skills: the bench's 6 skills are mapped onto 6 real skills (see chooseSkills).
 *   - A student: the DKT state after a warm-up from a random training student (see warmUp), then
 *     each answer is drawn from the DKT's chance for the item's mapped skill shifted by the item's
 *     own difficulty (a fixed logit offset per bank item, the same for every student), and the
 *     state advances by that answer, exactly as the network would have it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDatasetDir } from '../src/kt/data/dataset';
import { DatasetLayoutError } from '../src/kt/data/errors';
import { sharedDatasetDir } from '../src/kt/data/shared';
import type { DktModel } from '../src/kt/dkt';
import { type AnswerHistory, DktPredictor, type DktState } from '../src/kt/predict';
import { loadTfjsModel, saveTfjsModel } from '../src/kt/tfjs-format';
import { trainDkt } from '../src/kt/train';
import type { StudentSequence } from '../src/kt/types';
import { mulberry32 } from '../src/random';
import { type Generator, PREREQS, type SimStudent } from './practice-sim';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** Logit with the chance kept off 0 and 1 (a float32 sigmoid can round to either). */
const logit = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};
/** A standard normal draw (Box–Muller, as practice-sim.ts draws its item difficulties). */
const normal = (rnd: () => number) => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());

export interface DktLearnerOptions {
  /** Folder under ../shared/datasets (3- or 4-line ASSISTments data the loaders read). Default dkvmn_assist2009_updated. */
  dataset?: string;
  /** Which train/valid files of the folder. Default 1. */
  fold?: number;
  /** LSTM size. Default 100. */
  hidden?: number;
  /** Training caps: epochs, and seconds (training stops after the epoch that passes it). Defaults 40 and 90 (about 1 s an epoch at hidden 100 on the WASM kernels). */
  maxEpochs?: number;
  maxSeconds?: number;
  /** Epochs without a better validation AUC before stopping. Default 3. */
  patience?: number;
  /** Seed of the network's initialisation and batch order. Default 42. */
  seed?: number;
  /** Where trained models are cached. Default os.tmpdir()/jejak-dkt-student. */
  cacheDir?: string;
  /** Retrain even when the cache holds the model. */
  retrain?: boolean;
  /** How many real skills (the most answered in training) the map is chosen from. Default 20. */
  candidates?: number;
  /** SD of the per-item difficulty offsets, in logits. Default 0.5. */
  difficultySd?: number;
  /** Seed of those offsets (per bank item, like bktLearners). Default 77. */
  difficultySeed?: number;
  /** Replaces the drawn offsets: item (bank index) → logit subtracted from the DKT's. */
  difficulty?: (item: number) => number;
  /** At most this many warm-up answers are replayed per student (0: every student starts from the initial state). Default 30. */
  warmup?: number;
  /**
   * Skips the dataset: the model, the real skill index of each bench skill, and the histories the
   * warm-ups are drawn from (default none). For tests, or a model trained elsewhere.
   */
  model?: DktModel;
  skillMap?: readonly number[];
  warmups?: readonly AnswerHistory[];
  /** Progress lines (training, cache). */
  log?: (line: string) => void;
}

/** A bench skill and the real skill it stands for. */
export interface MappedSkill {
  bench: number;
  /** 0-based skill index of the dataset (the file's id − 1 for 1-based files). */
  skill: number;
  name?: string;
  /** Answers on it in the training split. */
  trainAnswers?: number;
}

export interface DktLearnersInfo {
  dataset: string | null;
  skills: MappedSkill[];
  validAuc: number | null;
  bestEpoch: number | null;
  epochs: number | null;
  trainSeconds: number | null;
  cachePath: string | null;
  fromCache: boolean;
  warmupPool: number;
}

export interface DktSimStudent extends SimStudent {
  /** The chance the student answers `item` right now (DKT chance for its skill, shifted by its difficulty). */
  chance(item: number): number;
  /** How many warm-up answers were replayed. */
  readonly warmedUp: number;
}

export interface DktLearners extends Generator {
  student(rnd: () => number, skillOf: readonly number[]): DktSimStudent;
  /** The predictor the students step (for checks against the model itself). */
  predictor: DktPredictor;
  info: DktLearnersInfo;
}

/** Bumped when the training or the cache layout changes, so old cached models are not reused. */
const CACHE_VERSION = 1;

/**
 * Chooses which real skill each bench skill stands for, so that the bench's prerequisites are also
 * the order real students met the skills in. Among the `candidates` skills with the most training
 * answers (default 20: ≥ 3,000 answers each in dkvmn_assist2009_updated fold 1), for each ordered
 * pair (a, b) it counts the training students who practised both and the share of them whose first
 * answer on a came before their first answer on b. It then takes the assignment of distinct skills to
 * bench skills 0..5 that maximises the smallest of those shares over the bench's prerequisite edges
 * (q → s: q practised before s), ties broken by their sum, each edge needing ≥ 40 students who did
 * both. ASSISTments has no prerequisite graph; practice order (teachers assign skill builders in
 * curriculum order) is the evidence the data holds, and a DKT trained on it has learnt how answers on
 * earlier skills predict later ones. It is order, not a claim that one skill needs the other.
 * Deterministic for given data (exhaustive branch and bound; ties go to the first found, in
 * frequency order).
 */
export function chooseSkills(sequences: readonly StudentSequence[], numSkills: number, candidates = 20, minPair = 40): number[] {
  const answers = new Float64Array(numSkills);
  for (const s of sequences) for (const k of s.skills) answers[k]++;
  const pool = Array.from({ length: numSkills }, (_, k) => k)
    .filter((k) => answers[k] > 0)
    .sort((a, b) => answers[b] - answers[a] || a - b)
    .slice(0, candidates);
  const K = pool.length;
  if (K < PREREQS.length) throw new Error(`the data has ${K} practised skills; the bench needs ${PREREQS.length}`);
  // both[a][b]: students who practised both; before[a][b]: of those, a first.
  const both = Array.from({ length: K }, () => new Float64Array(K));
  const before = Array.from({ length: K }, () => new Float64Array(K));
  const at = new Map(pool.map((k, i) => [k, i]));
  for (const s of sequences) {
    const first = new Map<number, number>();
    s.skills.forEach((k, t) => {
      const i = at.get(k);
      if (i !== undefined && !first.has(i)) first.set(i, t);
    });
    for (const [a, ta] of first) {
      for (const [b, tb] of first) {
        if (a === b) continue;
        both[a][b]++;
        if (ta < tb) before[a][b]++;
      }
    }
  }
  const share = (a: number, b: number) => (both[a][b] >= minPair ? before[a][b] / both[a][b] : -1);
  const edges = PREREQS.flatMap((ps, s) => ps.map((q) => [q, s] as const));
  for (const [q, s] of edges) if (q >= s) throw new Error(`chooseSkills assigns bench skills in index order; prerequisite ${q} of ${s} comes later`);
  let best: { min: number; sum: number; pick: number[] } | null = null;
  const pick: number[] = [];
  const search = (min: number, sum: number) => {
    const s = pick.length;
    if (s === PREREQS.length) {
      if (!best || min > best.min || (min === best.min && sum > best.sum)) best = { min, sum, pick: [...pick] };
      return;
    }
    for (let c = 0; c < K; c++) {
      if (pick.includes(c)) continue;
      let m = min;
      let t = sum;
      for (const q of PREREQS[s]) {
        const p = share(pick[q], c);
        m = Math.min(m, p);
        t += p;
      }
      // Shares only lower the minimum as skills are added, so a branch already below the best is done.
      if (m < 0 || (best && m < best.min)) continue;
      pick.push(c);
      search(m, t);
      pick.pop();
    }
  };
  search(1, 0);
  if (!best) throw new Error(`no ${PREREQS.length} of the ${K} most answered skills have ≥ ${minPair} students on every prerequisite pair`);
  return (best as { pick: number[] }).pick.map((i) => pool[i]);
}

/**
 * The warm-up: the first answers (at most `max`) of one real training student, leaving out their
 * answers on the six mapped skills. The bench's student has not yet practised the activity's skills
 * (the server's tracer also starts them cold), but arrives with a real history elsewhere: what
 * carries over is what the DKT reads from it (general level, related skills). Students therefore
 * differ the way real ones did, without the bench's skills being partly done before the first item.
 */
function warmUp(predictor: DktPredictor, state: DktState, history: AnswerHistory, mapped: ReadonlySet<number>, max: number): number {
  let n = 0;
  for (let t = 0; t < history.skills.length && n < max; t++) {
    const skill = history.skills[t];
    if (mapped.has(skill)) continue;
    predictor.step(state, skill, undefined, history.correct[t]);
    n++;
  }
  return n;
}

function readSkillNames(dir: string): Map<number, string> {
  // dkvmn_*: "<name>\t<1-based id>" lines; akt_*_pid: skill.json {name: 1-based id}. Both 1-based, loaded 0-based.
  const names = new Map<number, string>();
  for (const f of fs.readdirSync(dir)) {
    const file = path.join(dir, f);
    if (f.endsWith('_sname_sid')) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const [name, id] = line.split('\t');
        if (name && id && /^\d+$/.test(id.trim())) names.set(Number(id) - 1, name.trim());
      }
    } else if (f === 'skill.json') {
      for (const [name, id] of Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>)) names.set(id - 1, name.trim());
    }
  }
  return names;
}

interface Trained {
  model: DktModel;
  skillMap: number[];
  warmups: AnswerHistory[];
  info: DktLearnersInfo;
}

async function trainedFromDataset(opts: DktLearnerOptions): Promise<Trained> {
  const log = opts.log ?? (() => {});
  const dataset = opts.dataset ?? 'dkvmn_assist2009_updated';
  const dir = sharedDatasetDir(dataset);
  if (!fs.existsSync(dir)) {
    throw new DatasetLayoutError(dir, `is missing: dktLearners reads ../shared/datasets/${dataset} (see ../shared/datasets/README.md), or set JEJAK_SHARED_DIR to the folder holding datasets/; or pass { model, skillMap } to skip the dataset.`);
  }
  const fold = opts.fold ?? 1;
  const data = loadDatasetDir(dir, { fold });
  const train = data.train;
  const training = {
    hidden: opts.hidden ?? 100,
    maxEpochs: opts.maxEpochs ?? 40,
    maxSeconds: opts.maxSeconds ?? 90,
    patience: opts.patience ?? 3,
    seed: opts.seed ?? 42,
    variant: 'skill' as const,
  };
  const trainFile = fs.statSync(path.join(dir, data.files.train));
  const key = createHash('sha256')
    .update(JSON.stringify({ v: CACHE_VERSION, dataset, fold, files: data.files, trainBytes: trainFile.size, trainMtime: trainFile.mtimeMs, training }))
    .digest('hex')
    .slice(0, 16);
  const cachePath = path.join(opts.cacheDir ?? path.join(os.tmpdir(), 'jejak-dkt-student'), `${dataset}-f${fold}-h${training.hidden}-${key}`);

  let model: DktModel;
  let metrics: Record<string, number> = {};
  let fromCache = false;
  if (!opts.retrain && fs.existsSync(path.join(cachePath, 'model.json'))) {
    const saved = loadTfjsModel(cachePath);
    model = saved.model;
    metrics = saved.meta.metrics ?? {};
    fromCache = true;
    log(`dktLearners: model from the cache ${cachePath} (validation AUC ${metrics.validAuc?.toFixed(4)})`);
  } else {
    log(`dktLearners: training a skill-level DKT (hidden ${training.hidden}, ≤ ${training.maxEpochs} epochs, ≤ ~${training.maxSeconds} s) on ${train.name}, validating on ${data.valid.name}`);
    const started = performance.now();
    const result = await trainDkt(train, data.valid, training, (p) => {
      if (p.validAuc !== undefined) log(`  epoch ${p.epoch}: loss ${p.loss.toFixed(4)}, validation AUC ${p.validAuc.toFixed(4)} (${p.elapsedSec.toFixed(0)} s)`);
    });
    const trainSeconds = (performance.now() - started) / 1000;
    model = result.model;
    metrics = { validAuc: result.bestValidAuc, bestEpoch: result.bestEpoch, epochs: result.history.length, trainSeconds };
    // Written next to the final folder and renamed: a run killed mid-write leaves no half model behind.
    const tmp = `${cachePath}.tmp-${process.pid}`;
    saveTfjsModel(tmp, model, { hyperParameters: { ...training, dataset, fold }, metrics, engine: 'jejak', trainedAt: new Date().toISOString() });
    fs.rmSync(cachePath, { recursive: true, force: true });
    fs.renameSync(tmp, cachePath);
    log(`dktLearners: trained in ${trainSeconds.toFixed(0)} s, validation AUC ${result.bestValidAuc.toFixed(4)} (epoch ${result.bestEpoch}); cached in ${cachePath}`);
  }
  if (model.config.numSkills !== train.numSkills) throw new Error(`cached model in ${cachePath} has ${model.config.numSkills} skills, the data ${train.numSkills}; delete it`);

  const skillMap = chooseSkills(train.sequences, train.numSkills, opts.candidates ?? 20);
  const counts = new Map<number, number>();
  for (const s of train.sequences) for (const k of s.skills) counts.set(k, (counts.get(k) ?? 0) + 1);
  const names = readSkillNames(dir);
  return {
    model,
    skillMap,
    warmups: train.sequences,
    info: {
      dataset: `${dataset} fold ${fold} (${data.files.train})`,
      skills: skillMap.map((skill, bench) => ({ bench, skill, name: names.get(skill), trainAnswers: counts.get(skill) ?? 0 })),
      validAuc: metrics.validAuc ?? null,
      bestEpoch: metrics.bestEpoch ?? null,
      epochs: metrics.epochs ?? null,
      trainSeconds: metrics.trainSeconds ?? null,
      cachePath,
      fromCache,
      warmupPool: train.sequences.length,
    },
  };
}

/**
 * DKT learners: a Generator for practice-sim.ts whose students answer as a DKT trained on real
 * ASSISTments 2009 data predicts (module comment above). With `model` and `skillMap` the dataset is
 * not read (nothing is trained or cached).
 */
export async function dktLearners(name: string, opts: DktLearnerOptions = {}): Promise<DktLearners> {
  let trained: Trained;
  if (opts.model) {
    if (!opts.skillMap) throw new Error('dktLearners: a model needs its skillMap (the real skill of each bench skill)');
    trained = {
      model: opts.model,
      skillMap: [...opts.skillMap],
      warmups: [...(opts.warmups ?? [])],
      info: { dataset: null, skills: opts.skillMap.map((skill, bench) => ({ bench, skill })), validAuc: null, bestEpoch: null, epochs: null, trainSeconds: null, cachePath: null, fromCache: false, warmupPool: opts.warmups?.length ?? 0 },
    };
  } else {
    trained = await trainedFromDataset(opts);
  }
  const { model, skillMap, warmups } = trained;
  const predictor = new DktPredictor(model);
  if (skillMap.length < PREREQS.length) throw new Error(`dktLearners: the skill map has ${skillMap.length} skills, the bench has ${PREREQS.length}`);
  if (new Set(skillMap).size !== skillMap.length) throw new Error(`dktLearners: the skill map ${JSON.stringify(skillMap)} names a real skill twice`);
  for (const k of skillMap) if (!(Number.isInteger(k) && k >= 0 && k < predictor.numSkills)) throw new RangeError(`dktLearners: skill ${k} is outside the model's 0..${predictor.numSkills - 1}`);
  const mapped = new Set(skillMap);
  const maxWarmup = opts.warmup ?? 30;

  const sd = opts.difficultySd ?? 0.5;
  const seed = opts.difficultySeed ?? 77;
  const offsets = new Map<number, number>();
  const difficulty =
    opts.difficulty ??
    ((item: number) => {
      if (!offsets.has(item)) offsets.set(item, sd * normal(mulberry32(seed * 1009 + item)));
      return offsets.get(item)!;
    });

  return {
    name,
    predictor,
    info: trained.info,
    student(rnd, skillOf) {
      const state = predictor.initialState();
      // The warm-up student is drawn only when there is one to draw (rnd's stream is the bench's).
      const warmedUp = maxWarmup > 0 && warmups.length > 0 ? warmUp(predictor, state, warmups[Math.floor(rnd() * warmups.length)], mapped, maxWarmup) : 0;
      const realSkill = (benchSkill: number) => {
        const k = skillMap[benchSkill];
        if (k === undefined) throw new RangeError(`dktLearners: bench skill ${benchSkill} has no real skill (the map has ${skillMap.length})`);
        return k;
      };
      const chance = (item: number) => sigmoid(logit(predictor.predictItem(state, realSkill(skillOf[item]))) - difficulty(item));
      return {
        warmedUp,
        chance,
        answer(item) {
          const correct = rnd() < chance(item);
          predictor.step(state, realSkill(skillOf[item]), undefined, correct);
          return correct;
        },
        chanceOnNew(skill, seen) {
          const all = skillOf.flatMap((s, i) => (s === skill ? [i] : []));
          const fresh = all.filter((i) => !seen.has(i));
          const pool = fresh.length ? fresh : all;
          if (pool.length === 0) return 0;
          // One read of the state for the skill; each item only shifts it by its own offset.
          const z = logit(predictor.predictItem(state, realSkill(skill)));
          return pool.reduce((sum, i) => sum + sigmoid(z - difficulty(i)), 0) / pool.length;
        },
      };
    },
  };
}
