/**
 * `jejak kt …`: train a DKT model on a dataset folder and evaluate it on the folder's test split.
 * Other tooling (the benchmark, CI) calls these commands, so their options and the eval JSON are
 * kept stable. Mistakes in arguments or data end in one line on stderr and exit code 2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { DataFormatError, DatasetLayoutError, datasetSize, loadDatasetDir } from './data';
import { binaryMetrics } from './metrics';
import { DktModel } from './dkt';
import { DktModelMeta, SavedDkt, deserializeDkt, loadTfjsModel, saveTfjsModel, serializeDkt } from './tfjs-format';
import { DktVariant, TrainProgress, scoreDkt, trainDkt } from './train';

const USAGE = `Usage: npm run jejak -- kt <command>

  train --data DIR [--fold 1] --out MODEL [--epochs 50] [--patience 5] [--seed 1]
        [--hidden 200] [--item-aware auto|on|off]
                    train DKT on fold k of a dataset folder, early-stopping on its validation
                    split, and save the best model
  eval --model MODEL --data DIR [--fold 1] --json REPORT
                    score MODEL on the folder's test split; writes auc, acc, rmse, n, ...

DIR is laid out like ../shared/datasets/*: …train{k}.csv, …valid{k}.csv, …test.csv or …test{k}.csv
(or pyKT train_valid.csv + test.csv); the format and id base are detected.
MODEL is in TensorFlow.js layers format: a path ending in model.json (weights.bin goes next to it,
loadable by tf.loadLayersModel), or any other file name for both in one file.`;

/** A mistake on the command line. */
class UsageError extends Error {}

export interface KtCliIo {
  stdout: NodeJS.WritableStream;
  /** Progress and errors; the progress bar redraws in place only when this is a TTY. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const VARIANTS: Record<string, DktVariant | 'auto'> = { auto: 'auto', on: 'item', off: 'skill' };

function requireString(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** TF.js layers files when the path names a model.json (or a folder holding one), else one file. */
function isTfjsLayout(file: string): boolean {
  return path.basename(file) === 'model.json' || (fs.existsSync(file) && fs.statSync(file).isDirectory());
}

function writeModel(file: string, model: DktModel, meta: DktModelMeta): void {
  if (path.basename(file) === 'model.json') saveTfjsModel(path.dirname(file), model, meta);
  else fs.writeFileSync(file, serializeDkt(model, meta));
}

function readModel(file: string): SavedDkt {
  if (!fs.existsSync(file)) throw new UsageError(`--model ${file}: no such file`);
  try {
    if (!isTfjsLayout(file)) return deserializeDkt(fs.readFileSync(file));
    return loadTfjsModel(path.basename(file) === 'model.json' ? path.dirname(file) : file);
  } catch (e) {
    throw new UsageError(`--model ${file}: ${(e as Error).message}`);
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Training progress on stderr: a bar redrawn in place on a terminal (at most 10 times a second),
 * and one line per finished epoch either way, so that logs and CI output stay readable.
 */
class ProgressDisplay {
  private lastDraw = 0;
  private drawn = false;
  private lastValidAuc: number | undefined;
  private best = -Infinity;

  constructor(private readonly out: KtCliIo['stderr']) {}

  update(p: TrainProgress): void {
    const head = `[${p.variant}] epoch ${p.epoch}/${p.maxEpochs}`;
    if (p.validAuc !== undefined) {
      this.lastValidAuc = p.validAuc;
      this.best = Math.max(this.best, p.validAuc);
      this.clear();
      this.out.write(
        `${head} loss ${p.loss.toFixed(4)} valid AUC ${p.validAuc.toFixed(4)} (best ${this.best.toFixed(4)}) ` +
          `${formatDuration(p.elapsedSec)} elapsed, at most ${formatDuration(p.etaSec)} left\n`,
      );
      return;
    }
    const now = Date.now();
    if (!this.out.isTTY || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 20;
    const filled = Math.round((p.batch / p.batches) * width);
    const valid = this.lastValidAuc === undefined ? '' : ` · valid AUC ${this.lastValidAuc.toFixed(4)}`;
    this.out.write(
      `\r\x1b[K${head} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.batch}/${p.batches} ` +
        `loss ${p.loss.toFixed(4)}${valid} · ≤${formatDuration(p.etaSec)} left`,
    );
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

async function trainCommand(args: string[], io: KtCliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      fold: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      patience: { type: 'string' },
      seed: { type: 'string' },
      hidden: { type: 'string' },
      'item-aware': { type: 'string' },
    },
  });
  const dataDir = requireString(values.data, 'data');
  const out = requireString(values.out, 'out');
  const fold = positiveInt(values.fold, 'fold', 1);
  const itemAware = values['item-aware'] ?? 'auto';
  const variant = VARIANTS[itemAware];
  if (!variant) throw new UsageError(`--item-aware must be auto, on or off, got "${itemAware}"`);
  const opts = {
    maxEpochs: positiveInt(values.epochs, 'epochs', 50),
    patience: positiveInt(values.patience, 'patience', 5),
    seed: positiveInt(values.seed, 'seed', 1),
    hidden: positiveInt(values.hidden, 'hidden', 200),
    variant,
  };
  // model.json's folder is created on save; a single file's folder must exist (fail before training, not after).
  const outDir = path.dirname(path.resolve(out));
  if (path.basename(out) !== 'model.json' && !fs.existsSync(outDir)) throw new UsageError(`--out ${out}: folder ${outDir} does not exist`);

  const data = loadDatasetDir(dataDir, { fold });
  if (variant === 'item' && data.train.numItems === 0) throw new UsageError(`--item-aware on: ${dataDir} has no item ids`);
  const sizes = [data.train, data.valid, data.test].map((d) => {
    const s = datasetSize(d);
    return `${d.name}: ${s.students} students, ${s.interactions} answers`;
  });
  io.stderr.write(`${data.format} data, ${data.train.numSkills} skills, ${data.train.numItems} items\n  ${sizes.join('\n  ')}\n`);
  const display = new ProgressDisplay(io.stderr);
  const result = await trainDkt(data.train, data.valid, opts, (p) => display.update(p));
  display.clear();
  writeModel(out, result.model, {
    // The ids as written in the data files, so the model can be matched to them again.
    skillIds: Array.from({ length: data.train.numSkills }, (_, i) => String(i + data.base)),
    itemIds: result.variant === 'item' ? Array.from({ length: data.train.numItems }, (_, i) => String(i + data.base)) : undefined,
    hyperParameters: { ...opts, variant: result.variant, fold },
    metrics: { validAuc: result.bestValidAuc, bestEpoch: result.bestEpoch, epochsRun: result.history.length, secondsPerEpoch: result.secondsPerEpoch },
    dataset: path.basename(path.resolve(dataDir)),
    trainedAt: new Date().toISOString(),
  });
  const summary = result.candidates.map((c) => `${c.variant} ${c.bestValidAuc.toFixed(4)} (epoch ${c.bestEpoch})`).join(', ');
  io.stderr.write(`validation AUC: ${summary}; kept ${result.variant}, ${result.secondsPerEpoch.toFixed(1)} s/epoch\n`);
  io.stdout.write(`${out}\n`);
  return 0;
}

async function evalCommand(args: string[], io: KtCliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, data: { type: 'string' }, fold: { type: 'string' }, json: { type: 'string' } },
  });
  const modelFile = requireString(values.model, 'model');
  const dataDir = requireString(values.data, 'data');
  const jsonFile = requireString(values.json, 'json');
  const fold = positiveInt(values.fold, 'fold', 1);
  if (!fs.existsSync(path.dirname(path.resolve(jsonFile)))) throw new UsageError(`--json ${jsonFile}: folder ${path.dirname(path.resolve(jsonFile))} does not exist`);

  const started = performance.now();
  const { model } = readModel(modelFile);
  const data = loadDatasetDir(dataDir, { fold });
  const { numSkills, numItems } = model.config;
  if (data.test.numSkills > numSkills) {
    throw new UsageError(`${data.test.name} uses skill ids up to ${data.test.numSkills - 1} but the model knows ${numSkills} skills`);
  }
  if (numItems > 0 && data.test.numItems > numItems) {
    throw new UsageError(`${data.test.name} uses item ids up to ${data.test.numItems - 1} but the model knows ${numItems} items`);
  }
  if (numItems > 0 && data.test.sequences.some((s) => !s.items)) throw new UsageError(`the model is item-aware but ${data.test.name} has no item ids`);
  const scored = scoreDkt(model, data.test);
  const metrics = binaryMetrics(scored.labels, scored.preds);
  const report = {
    dataset: path.basename(path.resolve(dataDir)),
    test: data.test.name,
    fold,
    model: modelFile,
    variant: numItems > 0 ? 'item' : 'skill',
    auc: metrics.auc,
    acc: metrics.acc,
    rmse: metrics.rmse,
    n: metrics.n,
    seconds: (performance.now() - started) / 1000,
  };
  fs.writeFileSync(jsonFile, JSON.stringify(report, null, 2) + '\n');
  io.stdout.write(`${report.dataset} fold ${fold}: AUC ${metrics.auc.toFixed(4)}, ACC ${metrics.acc.toFixed(4)}, RMSE ${metrics.rmse.toFixed(4)} on ${metrics.n} answers\n`);
  return 0;
}

/** Errors that come from what the user gave us (arguments, files, data), not from a bug. */
function isUserError(e: unknown): boolean {
  if (e instanceof UsageError || e instanceof DataFormatError || e instanceof DatasetLayoutError) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR'].includes(code));
}

/** Runs `kt <command> …` (argv without the leading "kt"); resolves to the exit code. */
export async function runKtCli(argv: string[], io: KtCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'train') return await trainCommand(rest, io);
    if (command === 'eval') return await evalCommand(rest, io);
    if (command === '--help' || command === 'help') {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}" (train, eval)` : `a command is required (train, eval); see kt --help`);
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const user = isUserError(e);
    const prefix = command === 'train' || command === 'eval' ? `jejak kt ${command}` : 'jejak kt';
    io.stderr.write(`${prefix}: ${user ? '' : 'failed: '}${message}\n`);
    return user ? 2 : 1;
  }
}
