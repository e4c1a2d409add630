/**
 * `jejak kt …`: train a DKT model on a dataset folder and evaluate it on the folder's test split;
 * train a bank's model from the tool's own attempts, list model versions and roll one back. Other
 * tooling (the benchmark, CI) calls these commands, so their options and the eval JSON are kept
 * stable. Mistakes in arguments or data end in one line on stderr and exit code 2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { ConfigError, loadConfig, ROOT } from '../config';
import { connect, type Connection } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { rollbackModel } from './commands/rollbackModel';
import { trainBankModel } from './commands/trainBankModel';
import { activateModel } from './commands/activateModel';
import { listModels, ModelCommandError, type ModelSummary } from './models';
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
  train --bank ID [--tenant ID] [--epochs 30] [--patience 5] [--seed 1] [--hidden 200]
        [--item-aware auto|on|off]
                    train the bank's next model version from the tool's own attempts (in the
                    database named by DATABASE_URL) except the most recent 20% of the attempts,
                    held out; it becomes active if its AUC on those is at least the active
                    model's on the same attempts, else it is kept as a candidate
  models list [--bank ID] [--tenant ID] [--json]
                    list model versions, newest first
  models activate --bank ID --model ID [--tenant ID]
                    make a model version (its id, as models list shows) the bank's active one
  models rollback --bank ID [--tenant ID]
                    re-activate the bank's previous model version (or the cold start)

--tenant defaults to the bank's own tenant; a bank shipped with Jejak (shared) needs it.

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

async function trainCommand(args: string[], io: KtCliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      fold: { type: 'string' },
      out: { type: 'string' },
      bank: { type: 'string' },
      tenant: { type: 'string' },
      epochs: { type: 'string' },
      patience: { type: 'string' },
      seed: { type: 'string' },
      hidden: { type: 'string' },
      'item-aware': { type: 'string' },
    },
  });
  const itemAware = values['item-aware'] ?? 'auto';
  const variant = VARIANTS[itemAware];
  if (!variant) throw new UsageError(`--item-aware must be auto, on or off, got "${itemAware}"`);
  if (values.bank !== undefined) {
    if (values.data !== undefined || values.out !== undefined || values.fold !== undefined) throw new UsageError('--bank trains from the database: it takes no --data, --fold or --out');
    return trainBankCommand(values, variant, io, env);
  }
  const dataDir = requireString(values.data, 'data');
  const out = requireString(values.out, 'out');
  const fold = positiveInt(values.fold, 'fold', 1);
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

/** The database named by the configuration (DATABASE_URL), migrated. */
async function openDatabase(env: NodeJS.ProcessEnv): Promise<Connection> {
  const conn = await connect(loadConfig(env).databaseUrl, ROOT);
  try {
    await migrateToLatest(conn);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return conn;
}

async function withDatabase<T>(env: NodeJS.ProcessEnv, run: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await openDatabase(env);
  try {
    return await run(conn);
  } finally {
    await conn.close();
  }
}

/** The bank named by --bank and the tenant whose models of it are meant: --tenant, else the bank's own. */
async function bankAndTenant(conn: Connection, bankArg: string | undefined, tenantArg: string | undefined): Promise<{ bankId: number; tenantId: number }> {
  const bankId = positiveInt(requireString(bankArg, 'bank'), 'bank', 0);
  const bank = await conn.db.selectFrom('bank').select(['tenant_id']).where('id', '=', bankId).executeTakeFirst();
  if (!bank) throw new UsageError(`--bank ${bankId}: no such bank`);
  if (tenantArg === undefined) {
    if (bank.tenant_id === null) throw new UsageError(`--tenant is required: bank ${bankId} is shared by every tenant`);
    return { bankId, tenantId: bank.tenant_id };
  }
  const tenantId = positiveInt(tenantArg, 'tenant', 0);
  if (bank.tenant_id !== null && bank.tenant_id !== tenantId) throw new UsageError(`--bank ${bankId} belongs to tenant ${bank.tenant_id}, not ${tenantId}`);
  return { bankId, tenantId };
}

async function trainBankCommand(
  values: { bank?: string; tenant?: string; epochs?: string; patience?: string; seed?: string; hidden?: string },
  variant: DktVariant | 'auto',
  io: KtCliIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const options = {
    maxEpochs: positiveInt(values.epochs, 'epochs', 30),
    patience: positiveInt(values.patience, 'patience', 5),
    seed: positiveInt(values.seed, 'seed', 1),
    hidden: positiveInt(values.hidden, 'hidden', 200),
    variant,
  };
  return withDatabase(env, async (conn) => {
    const { bankId, tenantId } = await bankAndTenant(conn, values.bank, values.tenant);
    const display = new ProgressDisplay(io.stderr);
    const r = await trainBankModel({ db: conn.db, tenantId, bankId, actor: 'cli', options, onProgress: (p) => display.update(p) });
    display.clear();
    const previous = r.previousAuc === null ? 'no model was active' : `the active one had ${r.previousAuc.toFixed(4)} on the same attempts`;
    io.stdout.write(
      `bank ${bankId} (tenant ${tenantId}): model version ${r.version}, AUC ${r.holdoutAuc.toFixed(4)} on the ${r.heldOut.attemptIds.length} most recent attempts, held out ` +
        `(${previous}) → ${r.status}\n`,
    );
    return 0;
  });
}

/** The comparison on held-out attempts a model was activated or kept by, in a few words. */
function heldOutText(m: ModelSummary): string {
  const h = m.metrics.holdout;
  if (!h) return 'no held-out comparison';
  const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  return `held-out AUC ${fmt(h.auc)} on ${h.attempts} attempts` + (h.active ? ` (v${h.active.version}: ${fmt(h.active.auc)})` : '');
}

async function modelsCommand(args: string[], io: KtCliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { bank: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' } } });
    const filter = {
      bankId: values.bank === undefined ? undefined : positiveInt(values.bank, 'bank', 0),
      tenantId: values.tenant === undefined ? undefined : positiveInt(values.tenant, 'tenant', 0),
    };
    const models = await withDatabase(env, (conn) => listModels(conn.db, filter));
    if (values.json) io.stdout.write(JSON.stringify(models, null, 2) + '\n');
    else if (models.length === 0) io.stdout.write('No models.\n');
    else {
      for (const m of models) {
        io.stdout.write(
          `tenant ${m.tenantId ?? '-'} bank ${m.bankId ?? '-'} v${m.version}  ${m.status.padEnd(11)} ${m.variant.padEnd(5)} ` +
            `valid AUC ${m.metrics.validAuc.toFixed(4)}  ${heldOutText(m)}  ${m.dataSize} answers  ${m.engine}  ${new Date(m.createdAt).toISOString()}  (id ${m.id})\n`,
        );
      }
    }
    return 0;
  }
  if (sub === 'activate') {
    const { values } = parseArgs({ args: rest, options: { bank: { type: 'string' }, tenant: { type: 'string' }, model: { type: 'string' } } });
    const modelId = positiveInt(requireString(values.model, 'model'), 'model', 0);
    return withDatabase(env, async (conn) => {
      const { bankId, tenantId } = await bankAndTenant(conn, values.bank, values.tenant);
      const r = await activateModel({ db: conn.db, tenantId, bankId, modelId, actor: 'cli' });
      const from = r.previousVersion === null ? 'the cold start' : `version ${r.previousVersion}`;
      io.stdout.write(`bank ${bankId} (tenant ${tenantId}): version ${r.version} is active (was ${from})\n`);
      return 0;
    });
  }
  if (sub === 'rollback') {
    const { values } = parseArgs({ args: rest, options: { bank: { type: 'string' }, tenant: { type: 'string' } } });
    return withDatabase(env, async (conn) => {
      const { bankId, tenantId } = await bankAndTenant(conn, values.bank, values.tenant);
      const r = await rollbackModel({ db: conn.db, tenantId, bankId, actor: 'cli' });
      const to = r.toVersion === null ? 'no model: the cold-start estimator serves' : `version ${r.toVersion} is active`;
      io.stdout.write(`bank ${bankId} (tenant ${tenantId}): rolled back from version ${r.fromVersion}; ${to}\n`);
      return 0;
    });
  }
  throw new UsageError(sub ? `unknown models command "${sub}" (list, activate, rollback)` : 'models needs a command (list, activate, rollback)');
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
  if (e instanceof ModelCommandError || e instanceof ConfigError || e instanceof ZodError) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR'].includes(code));
}

/** Runs `kt <command> …` (argv without the leading "kt"); resolves to the exit code. */
export async function runKtCli(argv: string[], io: KtCliIo = { stdout: process.stdout, stderr: process.stderr }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'train') return await trainCommand(rest, io, env);
    if (command === 'eval') return await evalCommand(rest, io);
    if (command === 'models') return await modelsCommand(rest, io, env);
    if (command === '--help' || command === 'help') {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}" (train, eval, models)` : `a command is required (train, eval, models); see kt --help`);
  } catch (e) {
    const message = e instanceof ZodError ? e.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ') : e instanceof Error ? e.message.split('\n')[0] : String(e);
    const user = isUserError(e);
    const prefix = command === 'train' || command === 'eval' || command === 'models' ? `jejak kt ${command}` : 'jejak kt';
    io.stderr.write(`${prefix}: ${user ? '' : 'failed: '}${message}\n`);
    return user ? 2 : 1;
  }
}
