import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../engine/random';
import { KtDataset, StudentSequence } from '../types';
import { DataFormat, detectFormat } from './detect';
import { DatasetLayoutError } from './errors';
import { parseFourLine } from './fourLine';
import { readPykt } from './pykt';
import { parseThreeLine } from './threeLine';

export interface LoadOptions {
  /** Which train/valid (and, where numbered, test) files to use; default 1. */
  fold?: number;
  /** Id base of the 3-/4-line files; default from the folder name, else from the data. */
  base?: 0 | 1;
  /** Skip detection (every split file must then be in this format). */
  format?: DataFormat;
  /** Share of train students held out for validation when the folder has no valid file. */
  validShare?: number;
  /** Seed of that hold-out draw. */
  seed?: number;
}

export interface LoadedDataset {
  train: KtDataset;
  valid: KtDataset;
  test: KtDataset;
  format: DataFormat;
  /** Id base the 3-/4-line files were read with (pyKT files are always 0-based). */
  base: 0 | 1;
  files: { train: string; valid: string | null; test: string };
}

/**
 * Id base of a dataset folder from its name, per ../shared/datasets/README.md: DKVMN and AKT files
 * count from 1, Piech and DKT+ files from 0. Undefined for other folders.
 */
export function baseFromFolderName(dir: string): 0 | 1 | undefined {
  const name = path.basename(path.resolve(dir)).toLowerCase();
  if (name.startsWith('dkvmn_') || name.startsWith('akt_')) return 1;
  if (name.startsWith('piech_') || name.startsWith('dktplus_')) return 0;
  return undefined;
}

/** The one file in `names` that `pattern` matches, undefined if none; several is an error. */
function pickOne(dir: string, names: string[], pattern: RegExp): string | undefined {
  const hits = names.filter((n) => pattern.test(n));
  if (hits.length > 1) throw new DatasetLayoutError(dir, `several files match ${pattern}: ${hits.join(', ')}`);
  return hits[0];
}

/** `…train{k}.csv` and friends: the split word starts the name or follows a non-letter (`x_train1.csv`, not `pretrain1.csv`). */
function splitPattern(split: string, fold: number | ''): RegExp {
  return new RegExp(`(^|[^a-z])${split}${fold}\\.csv$`, 'i');
}

interface SplitFiles {
  train: string;
  valid: string | null;
  test: string;
}

function findSplitFiles(dir: string, names: string[], fold: number): SplitFiles {
  const train = pickOne(dir, names, splitPattern('train', fold));
  if (train) {
    const valid = pickOne(dir, names, splitPattern('valid', fold)) ?? null;
    const test = pickOne(dir, names, splitPattern('test', '')) ?? pickOne(dir, names, splitPattern('test', fold));
    if (!test) throw new DatasetLayoutError(dir, `found ${train} but no …test.csv or …test${fold}.csv`);
    return { train, valid, test };
  }
  // Folders without numbered folds (Piech, DKT+) hold one train/test pair: that is fold 1.
  const fixedTrain = pickOne(dir, names, splitPattern('train', ''));
  const fixedTest = pickOne(dir, names, splitPattern('test', ''));
  if (fixedTrain && fixedTest && !names.some((n) => /train\d+\.csv$/i.test(n))) {
    if (fold !== 1) throw new DatasetLayoutError(dir, `has a single train/test split (${fixedTrain}, ${fixedTest}); there is no fold ${fold}`);
    return { train: fixedTrain, valid: pickOne(dir, names, splitPattern('valid', '')) ?? null, test: fixedTest };
  }
  throw new DatasetLayoutError(dir, `no …train${fold}.csv (or train_valid.csv/test.csv, or …train.csv/…test.csv) in this folder`);
}

/** Moves a seeded random `share` of the students out of `train`. */
function holdOut(train: StudentSequence[], share: number, seed: number): { kept: StudentSequence[]; held: StudentSequence[] } {
  if (!(share > 0 && share < 1)) throw new Error(`validation share must be between 0 and 1, got ${share}`);
  const order = Array.from(train, (_, i) => i);
  new Rng(seed).shuffle(order);
  const held = new Set(order.slice(0, Math.round(train.length * share)));
  return { kept: train.filter((_, i) => !held.has(i)), held: train.filter((_, i) => held.has(i)) };
}

/** Reads one split file; unless the format was given, it must look like the train file's. */
function readLineFormat(file: string, format: DataFormat, base: 0 | 1, given: boolean): StudentSequence[] {
  const text = fs.readFileSync(file, 'utf8');
  const found = given ? format : detectFormat(text);
  if (found !== format) throw new DatasetLayoutError(path.dirname(file), `${path.basename(file)} looks ${found} but the other split files are ${format}`);
  return format === 'four-line' ? parseFourLine(text, file, base) : parseThreeLine(text, file, base);
}

function minId(sets: StudentSequence[][]): number {
  let min = Infinity;
  for (const set of sets) {
    for (const s of set) {
      for (const id of s.skills) if (id < min) min = id;
      if (s.items) for (const id of s.items) if (id < min) min = id;
    }
  }
  return min;
}

/** Converts the ids of 1-based files, read as if 0-based, to 0-based, in place. */
function shiftDown(sets: StudentSequence[][]): void {
  for (const set of sets) {
    for (const s of set) {
      for (let i = 0; i < s.skills.length; i++) s.skills[i]--;
      if (s.items) for (let i = 0; i < s.items.length; i++) s.items[i]--;
    }
  }
}

interface RawSplits {
  format: DataFormat;
  base: 0 | 1;
  files: SplitFiles;
  train: StudentSequence[];
  valid: StudentSequence[] | null;
  test: StudentSequence[];
}

/** pyKT: folds 0–4 of train_valid.csv; fold k validates on pyKT fold k-1 and trains on the rest. */
function readPyktSplits(dir: string, names: string[], fold: number): RawSplits {
  if (!names.includes('test.csv')) throw new DatasetLayoutError(dir, 'has train_valid.csv but no test.csv');
  if (fold > 5) throw new DatasetLayoutError(dir, `pyKT data has folds 1–5, not ${fold}`);
  const files = { train: 'train_valid.csv', valid: 'train_valid.csv', test: 'test.csv' };
  const rows = readPykt(path.join(dir, files.train));
  return {
    format: 'pykt',
    base: 0,
    files,
    train: rows.filter((r) => r.fold !== fold - 1).map((r) => r.sequence),
    valid: rows.filter((r) => r.fold === fold - 1).map((r) => r.sequence),
    test: readPykt(path.join(dir, files.test)).map((r) => r.sequence),
  };
}

function readLineSplits(dir: string, names: string[], fold: number, opts: LoadOptions): RawSplits {
  const files = findSplitFiles(dir, names, fold);
  const trainPath = path.join(dir, files.train);
  const format = opts.format ?? detectFormat(fs.readFileSync(trainPath, 'utf8'));
  if (format === 'pykt') throw new DatasetLayoutError(dir, `${files.train} is a pyKT file but the folder has no train_valid.csv`);
  const known = opts.base ?? baseFromFolderName(dir);
  // Unknown base: read as 0-based, then shift when no id is 0 (the files must have been 1-based).
  const readBase = known ?? 0;
  const given = opts.format !== undefined;
  const train = readLineFormat(trainPath, format, readBase, given);
  const valid = files.valid ? readLineFormat(path.join(dir, files.valid), format, readBase, given) : null;
  const test = readLineFormat(path.join(dir, files.test), format, readBase, given);
  const sets = [train, valid ?? [], test];
  const base = known ?? (minId(sets) >= 1 ? 1 : 0);
  if (known === undefined && base === 1) shiftDown(sets);
  return { format, base, files, train, valid, test };
}

function idSpaces(sets: StudentSequence[][]): { numSkills: number; numItems: number } {
  let maxSkill = -1;
  let maxItem = -1;
  let withItems = false;
  for (const set of sets) {
    for (const s of set) {
      for (const id of s.skills) if (id > maxSkill) maxSkill = id;
      if (s.items) {
        withItems = true;
        for (const id of s.items) if (id > maxItem) maxItem = id;
      }
    }
  }
  return { numSkills: maxSkill + 1, numItems: withItems ? maxItem + 1 : 0 };
}

/**
 * Loads fold `fold` of a dataset folder laid out like those in ../shared/datasets/: finds the split
 * files by name, detects their format and id base, and returns train/valid/test with the same
 * skill and item id spaces (max over the three splits). Where there is no validation file, a seeded
 * share of the train students becomes the validation set.
 */
export function loadDatasetDir(dir: string, opts: LoadOptions = {}): LoadedDataset {
  const fold = opts.fold ?? 1;
  if (!Number.isInteger(fold) || fold < 1) throw new DatasetLayoutError(dir, `fold must be a positive whole number, got ${fold}`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DatasetLayoutError(dir, 'is not a folder');
  const names = fs.readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.csv')).sort();
  const folder = path.basename(path.resolve(dir));
  const pykt = names.includes('train_valid.csv') && (opts.format ?? 'pykt') === 'pykt';
  const raw = pykt ? readPyktSplits(dir, names, fold) : readLineSplits(dir, names, fold, opts);

  let { train, valid } = raw;
  let trainName = pykt ? `${folder}/train_valid.csv (all folds but ${fold - 1})` : `${folder}/${raw.files.train}`;
  let validName = pykt ? `${folder}/train_valid.csv (fold ${fold - 1})` : `${folder}/${raw.files.valid}`;
  if (!valid) {
    const share = opts.validShare ?? 0.2;
    const seed = opts.seed ?? 1;
    ({ kept: train, held: valid } = holdOut(train, share, seed));
    trainName = `${folder}/${raw.files.train} (without the validation hold-out)`;
    validName = `${folder}/${raw.files.train} (${Math.round(share * 100)}% of students held out, seed ${seed})`;
  }
  const { numSkills, numItems } = idSpaces([train, valid, raw.test]);
  return {
    train: { name: trainName, numSkills, numItems, sequences: train },
    valid: { name: validName, numSkills, numItems, sequences: valid },
    test: { name: `${folder}/${raw.files.test}`, numSkills, numItems, sequences: raw.test },
    format: raw.format,
    base: raw.base,
    files: raw.files,
  };
}
