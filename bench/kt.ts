/**
 * Knowledge-tracing benchmark (issue #3): trains and evaluates DKT through the `kt` CLI on the
 * public splits in ../shared/datasets, next to the published numbers for the same splits and to
 * the PyTorch reference (../shared/kt-reference/dkt_ref.py) run in the same benchmark, and measures
 * peak memory and serving latency (./kt-serving.ts). Writes bench/kt-report.md and bench/kt-report.json.
 *
 *   npm run bench:kt                       full run (long: up to 50 epochs per dataset, twice)
 *   npm run bench:kt -- --quick            1 epoch on dkvmn_synthetic, report in bench/tmp/
 *   npm run bench:kt -- --serving-only     serving latency only, on untrained models of the datasets'
 *                                          shapes (minutes): bench/kt-serving-report.md
 *   options: --datasets a,b  --epochs N  --patience N  --no-reference  --out DIR
 *
 * Each training, evaluation and serving measurement runs in its own child process, so that its
 * peak RSS is its own (training through the documented CLI, `src/cli.ts kt train`); the children run
 * one after another because the machine is small and shared.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { runKtCli } from '../src/kt/cli';
import { BktModel, EloModel, evaluatePredictor } from '../src/kt/coldstart';
import { loadDatasetDir, repoRoot, sharedDatasetDir, sharedDir } from '../src/kt/data';
import { createDkt, DEFAULT_HIDDEN, dktConfig } from '../src/kt/dkt';
import { deserializeDkt, serializeDkt } from '../src/kt/tfjs-format';
import type { KtDataset } from '../src/kt/types';
import { loads, measureServing, SERVING_TARGETS, ServingResult, servingNotes, servingTable } from './kt-serving';

interface Published {
  source: string;
  model: string;
  auc: number;
}

interface BenchDataset {
  name: string;
  itemAware: 'auto' | 'on' | 'off';
  /** Input layer the reference uses here (ANCHORS.md E: an embedding for the 1,223 Statics ids). */
  referenceInput: 'onehot' | 'embed';
  published: Published[];
  note?: string;
}

const DKVMN = 'DKVMN paper (Zhang et al. 2017), fixed test file';
const AKT = 'AKT paper (Ghosh et al. 2020), mean of 5 test folds';

/** Published AUCs for exactly these splits, from ../shared/datasets/ANCHORS.md (B, C). */
const DATASETS: BenchDataset[] = [
  {
    name: 'dkvmn_assist2009_updated',
    itemAware: 'off',
    referenceInput: 'onehot',
    published: [
      { source: DKVMN, model: 'DKT', auc: 0.805 },
      { source: DKVMN, model: 'DKVMN', auc: 0.816 },
    ],
  },
  {
    name: 'dkvmn_statics',
    itemAware: 'off',
    referenceInput: 'embed',
    published: [
      { source: DKVMN, model: 'DKT', auc: 0.802 },
      { source: DKVMN, model: 'DKVMN', auc: 0.828 },
    ],
  },
  {
    name: 'akt_assist2009_pid',
    itemAware: 'on',
    referenceInput: 'onehot',
    published: [
      { source: AKT, model: 'DKT', auc: 0.817 },
      { source: AKT, model: 'AKT-R', auc: 0.835 },
    ],
    note: 'Jejak item-aware; the PyTorch reference is skill-only (its s/epoch ratio compares different models)',
  },
  {
    name: 'dkvmn_synthetic',
    itemAware: 'off',
    referenceInput: 'onehot',
    published: [
      { source: DKVMN, model: 'DKT', auc: 0.803 },
      { source: DKVMN, model: 'DKVMN', auc: 0.827 },
    ],
  },
];

const TARGETS = { epochRatio: 1.5 };

interface ReferenceResult {
  test_auc: number;
  test_acc: number;
  sec_per_epoch: number;
  epochs_run: number;
  best_epoch: number;
  latency: { step_b1_ms: number; step_b256_ms: number; full200_b1_ms: number };
}

interface DatasetResult {
  dataset: string;
  fold: number;
  variant: string;
  note?: string;
  test: { auc: number; acc: number; rmse: number; n: number };
  published: Published[];
  training: { secondsPerEpoch: number; epochsRun: number; bestEpoch: number; validAuc: number; peakRssMb: number };
  baselines: { bkt: { auc: number; acc: number }; elo: { auc: number; acc: number } };
  serving: ServingResult;
  reference: ReferenceResult | null;
  referenceSkipped?: string;
  /** Jejak s/epoch ÷ PyTorch s/epoch. */
  epochRatio: number | null;
}

/** Runs this file as a child (`--child …`); resolves to its last stdout line, parsed. */
function runChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', __filename, ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`child ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}

/**
 * Runs the documented CLI (`npm run jejak -- kt …` is `tsx src/cli.ts kt …`) in a process of its own and
 * reports that process's exit code and peak RSS: the memory a school sees when it trains, not this
 * benchmark's. The RSS is printed by a hook that runs as the process exits.
 */
function runCli(args: string[]): Promise<{ code: number; maxRssMb: number }> {
  const rssAtExit = 'data:text/javascript,import{writeSync}from"node:fs";process.on("exit",(code)=>writeSync(1,"\\n"+JSON.stringify({code,maxRssMb:process.resourceUsage().maxRSS/1024})+"\\n"))';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', rssAtExit, 'src/cli.ts', 'kt', ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as { code: number; maxRssMb: number }));
  });
}

/** The PyTorch reference on the same split, one thread; null with the reason when it cannot run. */
function runReference(ds: BenchDataset, epochs: number, patience: number): Promise<{ result: ReferenceResult | null; skipped?: string }> {
  const script = path.join(sharedDir(), 'kt-reference', 'dkt_ref.py');
  const args = [script, '--dataset', ds.name, '--fold', '1', '--threads', '1', '--epochs', String(epochs), '--patience', String(patience), '--input', ds.referenceInput];
  return new Promise((resolve) => {
    // `--threads 1` is torch.set_num_threads(1), yet Debian's torch still starts a second OpenBLAS
    // thread; these pin the BLAS and OpenMP pools too, so the reference really runs on one thread.
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const child = spawn('/usr/bin/python3', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let echoed = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Echo whole lines only, as progress.
      const end = out.lastIndexOf('\n') + 1;
      for (const line of out.slice(echoed, end).split('\n')) if (line.trim()) process.stderr.write(`  [pytorch] ${line}\n`);
      echoed = Math.max(echoed, end);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ result: null, skipped: e.message }));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) resolve({ result: null, skipped: `dkt_ref.py exited with ${code}: ${err.trim().split('\n').pop() ?? ''}` });
      else resolve({ result: JSON.parse(last) as ReferenceResult });
    });
  });
}

/** Why the PyTorch reference cannot run here, or null when it can. */
async function referenceUnavailable(): Promise<string | null> {
  const script = path.join(sharedDir(), 'kt-reference', 'dkt_ref.py');
  if (!fs.existsSync(script)) return `${script} not found`;
  const importable = await new Promise<boolean>((resolve) => {
    const child = spawn('/usr/bin/python3', ['-c', 'import torch, sklearn, numpy'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
  return importable ? null : '/usr/bin/python3 cannot import torch, sklearn and numpy (Debian python3-torch, python3-sklearn)';
}

/** BKT and Elo from the cold-start module, fitted on train+valid as bkt_ref.py does. */
function baselines(train: KtDataset, valid: KtDataset, test: KtDataset): DatasetResult['baselines'] {
  const all: KtDataset = { ...train, sequences: [...train.sequences, ...valid.sequences] };
  const bkt = evaluatePredictor(BktModel.fit(all), test);
  const elo = evaluatePredictor(EloModel.fit(all), test);
  return { bkt: { auc: bkt.auc, acc: bkt.acc }, elo: { auc: elo.auc, acc: elo.acc } };
}

async function benchDataset(ds: BenchDataset, o: { epochs: number; patience: number; skipReference: string | null; work: string }): Promise<DatasetResult> {
  const dataDir = sharedDatasetDir(ds.name);
  const modelFile = path.join(o.work, `${ds.name}.dkt`);
  const evalFile = path.join(o.work, `${ds.name}.eval.json`);
  process.stderr.write(`\n== ${ds.name}\n`);
  const train = await runCli([
    'train', '--data', dataDir, '--fold', '1', '--out', modelFile,
    '--epochs', String(o.epochs), '--patience', String(o.patience), '--item-aware', ds.itemAware,
  ]);
  if (train.code !== 0) throw new Error(`kt train failed on ${ds.name}`);
  const evaluated = await runChild<{ code: number }>(['--child', 'cli', 'eval', '--model', modelFile, '--data', dataDir, '--fold', '1', '--json', evalFile]);
  if (evaluated.code !== 0) throw new Error(`kt eval failed on ${ds.name}`);
  const report = JSON.parse(fs.readFileSync(evalFile, 'utf8'));
  const meta = deserializeDkt(fs.readFileSync(modelFile)).meta;
  const metrics = meta.metrics ?? {};
  const serving = await runChild<ServingResult>(['--child', 'serve', modelFile]);
  const data = loadDatasetDir(dataDir, { fold: 1 });
  process.stderr.write('  fitting BKT and Elo baselines\n');
  const base = baselines(data.train, data.valid, data.test);
  const { result: reference, skipped: referenceSkipped } = o.skipReference
    ? { result: null, skipped: o.skipReference }
    : await runReference(ds, o.epochs, o.patience);
  return {
    dataset: ds.name,
    fold: 1,
    variant: report.variant,
    note: ds.note,
    test: { auc: report.auc, acc: report.acc, rmse: report.rmse, n: report.n },
    published: ds.published,
    training: {
      secondsPerEpoch: metrics.secondsPerEpoch,
      epochsRun: metrics.epochsRun,
      bestEpoch: metrics.bestEpoch,
      validAuc: metrics.validAuc,
      peakRssMb: train.maxRssMb,
    },
    baselines: base,
    serving,
    reference,
    referenceSkipped,
    epochRatio: reference ? metrics.secondsPerEpoch / reference.sec_per_epoch : null,
  };
}

const f4 = (x: number | undefined | null) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(4));
const f2 = (x: number | undefined | null) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(2));
const mark = (ok: boolean) => (ok ? '✓' : '✗');

function markdown(results: DatasetResult[], header: Record<string, string>): string {
  const lines = ['# Jejak knowledge-tracing benchmark', ''];
  for (const [k, v] of Object.entries(header)) lines.push(`- ${k}: ${v}`);
  lines.push(
    '',
    '## Accuracy (fold 1, test split; AUC/ACC over every answer but the first of each 200-step window)',
    '',
    '| dataset | Jejak AUC | Jejak ACC | published (same split) | PyTorch ref AUC / ACC (this run) | BKT AUC | Elo AUC | n |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const pub = r.published.map((p) => `${p.model} ${p.auc.toFixed(3)}`).join(', ');
    const ref = r.reference ? `${f4(r.reference.test_auc)} / ${f4(r.reference.test_acc)}` : '–';
    lines.push(`| ${r.dataset} (${r.variant}) | ${f4(r.test.auc)} | ${f4(r.test.acc)} | ${pub} | ${ref} | ${f4(r.baselines.bkt.auc)} | ${f4(r.baselines.elo.auc)} | ${r.test.n} |`);
  }
  lines.push('', `Published numbers: ${DKVMN} (dkvmn_*); ${AKT} (akt_*). From ../shared/datasets/ANCHORS.md, where they are marked [recalled].`);
  lines.push(
    '',
    '## Training (one thread each, measured side by side)',
    '',
    `| dataset | Jejak s/epoch | PyTorch s/epoch | ratio (target ≤ ${TARGETS.epochRatio}) | epochs run (best) | PyTorch epochs (best) | valid AUC | peak RSS training |`,
    '|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const ratio = r.epochRatio === null ? `– (${r.referenceSkipped ?? ''})` : `${f2(r.epochRatio)} ${mark(r.epochRatio <= TARGETS.epochRatio)}`;
    const refEpochs = r.reference ? `${r.reference.epochs_run} (${r.reference.best_epoch})` : '–';
    lines.push(
      `| ${r.dataset} | ${f2(r.training.secondsPerEpoch)} | ${f2(r.reference?.sec_per_epoch)} | ${ratio} | ${r.training.epochsRun} (${r.training.bestEpoch}) | ${refEpochs} | ${f4(r.training.validAuc)} | ${r.training.peakRssMb.toFixed(0)} MB |`,
    );
  }
  lines.push('', '## Serving (one model loaded; milliseconds)', '');
  lines.push(
    ...servingTable(
      results.map((r) => {
        const lat = r.reference?.latency;
        return { dataset: r.dataset, serving: r.serving, pytorch: lat ? `${f2(lat.step_b1_ms)} / ${f2(lat.step_b256_ms)} / ${f2(lat.full200_b1_ms)}` : undefined };
      }),
    ),
  );
  lines.push('', ...servingNotes(), '', 'The models trained by this run, each in a process of its own.');
  if (results.some((r) => r.reference)) {
    lines.push('PyTorch = dkt_ref.py in the same run, one thread: one step with every skill\'s prediction for 1 and for 256 students, and a 200-answer history.');
  }
  const notes = results.filter((r) => r.note).map((r) => `- ${r.dataset}: ${r.note}`);
  if (notes.length) lines.push('', '## Notes', '', ...notes);
  return lines.join('\n') + '\n';
}

const machine = () => `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB`;

/**
 * `--serving-only`: the serving table alone, on models of each dataset's shape (its skill and item
 * counts, hidden 200) with createDkt's seeded weights instead of trained ones. Serving runs the same
 * arithmetic whatever the weights, so its cost depends on the shape only; this takes minutes
 * instead of the hours of training. Writes kt-serving-report.md and .json.
 */
async function servingOnly(chosen: BenchDataset[], o: { work: string; outDir: string }): Promise<number> {
  const started = new Date();
  const loadAtStart = os.loadavg();
  const rows: { dataset: string; serving: ServingResult }[] = [];
  for (const ds of chosen) {
    process.stderr.write(`== ${ds.name}: `);
    const data = loadDatasetDir(sharedDatasetDir(ds.name), { fold: 1 });
    // 'auto' trains both variants and may keep either: measure the larger, item-aware shape.
    const numItems = ds.itemAware === 'off' ? 0 : data.train.numItems;
    const model = createDkt(dktConfig({ numSkills: data.train.numSkills, numItems, hidden: DEFAULT_HIDDEN, seed: 1 }));
    const modelFile = path.join(o.work, `${ds.name}.shape.dkt`);
    fs.writeFileSync(modelFile, serializeDkt(model));
    process.stderr.write(`${model.config.numSkills} skills, ${numItems} items\n`);
    rows.push({ dataset: ds.name, serving: await runChild<ServingResult>(['--child', 'serve', modelFile]) });
  }
  const header = {
    date: started.toISOString(),
    machine: machine(),
    'load average (1, 5, 15 min)': `${loads(loadAtStart)} before, ${loads(os.loadavg())} after`,
    node: process.version,
    kernels: rows[0]?.serving.kernels ?? '–',
    models: `built from each dataset's skill and item counts (fold 1), hidden ${DEFAULT_HIDDEN}, seeded weights (createDkt), not trained: serving cost depends on the shape, not on the weights`,
  };
  const lines = ['# Jejak knowledge-tracing serving benchmark', '', '`npm run bench:kt -- --serving-only`', ''];
  for (const [k, v] of Object.entries(header)) lines.push(`- ${k}: ${v}`);
  lines.push('', ...servingTable(rows), '', ...servingNotes(), '');
  const base = path.join(o.outDir, 'kt-serving-report');
  fs.writeFileSync(`${base}.json`, JSON.stringify({ ...header, targets: SERVING_TARGETS, results: rows }, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, lines.join('\n'));
  process.stderr.write(`\nwrote ${base}.md and ${base}.json\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const [, mode, ...rest] = argv;
    if (mode === 'cli') {
      const code = await runKtCli(rest);
      process.stdout.write(`\n${JSON.stringify({ code, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
      return 0;
    }
    if (mode === 'serve') {
      const { model } = deserializeDkt(fs.readFileSync(rest[0]));
      process.stdout.write(JSON.stringify(await measureServing(model)) + '\n');
      return 0;
    }
    throw new Error(`unknown child mode ${mode}`);
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      datasets: { type: 'string' },
      epochs: { type: 'string' },
      patience: { type: 'string' },
      'no-reference': { type: 'boolean' },
      'serving-only': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const names = values.datasets ? values.datasets.split(',') : quick ? ['dkvmn_synthetic'] : DATASETS.map((d) => d.name);
  const chosen = names.map((n) => {
    const d = DATASETS.find((x) => x.name === n);
    if (!d) throw new Error(`unknown dataset ${n} (one of ${DATASETS.map((x) => x.name).join(', ')})`);
    return d;
  });
  const count = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive whole number, got "${value}"`);
    return Number(value);
  };
  const epochs = count(values.epochs, quick ? 1 : 50, 'epochs');
  const patience = count(values.patience, quick ? 1 : 5, 'patience');
  const outDir = path.resolve(values.out ?? path.join(repoRoot(), 'bench', quick ? 'tmp' : ''));
  const work = path.join(repoRoot(), 'bench', 'tmp', 'models');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  if (values['serving-only']) return servingOnly(chosen, { work, outDir });
  const skipReference = values['no-reference'] ? 'not requested (--no-reference)' : await referenceUnavailable();
  if (skipReference) process.stderr.write(`PyTorch reference skipped: ${skipReference}\n`);

  const started = new Date();
  const loadAtStart = os.loadavg();
  const results: DatasetResult[] = [];
  for (const ds of chosen) results.push(await benchDataset(ds, { epochs, patience, skipReference, work }));
  const header = {
    date: started.toISOString(),
    machine: machine(),
    'load average (1, 5, 15 min)': `${loads(loadAtStart)} at start, ${loads(os.loadavg())} at end`,
    node: process.version,
    run: quick ? `--quick (${epochs} epoch(s), patience ${patience}): not comparable with the targets` : `up to ${epochs} epochs, patience ${patience}`,
    reference: skipReference ? `not run: ${skipReference}` : 'PyTorch dkt_ref.py --threads 1, same epochs cap and patience',
  };
  const base = path.join(outDir, quick ? 'kt-report-quick' : 'kt-report');
  fs.writeFileSync(`${base}.json`, JSON.stringify({ ...header, targets: TARGETS, results }, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, markdown(results, header));
  process.stderr.write(`\nwrote ${base}.md and ${base}.json\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`bench:kt: ${e.message}\n`);
    process.exit(1);
  },
);
