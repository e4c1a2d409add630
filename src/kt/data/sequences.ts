import { KtDataset, StudentSequence } from '../types';

/**
 * Cuts a sequence into consecutive, non-overlapping pieces of at most `length` steps, each an
 * independent sequence, as the DKVMN/AKT pipelines and the reference (`ktdata.chunk`) do. Models
 * start each piece from a fresh state, so the first step of every piece is not scored; a 1-step
 * piece therefore scores nothing. The pieces are views on the original arrays.
 */
export function windows(seq: StudentSequence, length = 200): StudentSequence[] {
  if (!Number.isInteger(length) || length < 1) throw new Error(`window length must be a positive integer, got ${length}`);
  const out: StudentSequence[] = [];
  for (let start = 0; start < seq.correct.length; start += length) {
    const end = Math.min(start + length, seq.correct.length);
    const piece: StudentSequence = {
      student: seq.student,
      skills: seq.skills.subarray(start, end),
      correct: seq.correct.subarray(start, end),
    };
    if (seq.items) piece.items = seq.items.subarray(start, end);
    out.push(piece);
  }
  return out;
}

/** Students and answered steps in a dataset. */
export function datasetSize(ds: KtDataset): { students: number; interactions: number } {
  let interactions = 0;
  for (const s of ds.sequences) interactions += s.correct.length;
  return { students: ds.sequences.length, interactions };
}

/** One answer as stored in the tool's attempts table. */
export interface AttemptRow {
  student: string;
  /** 0-based skill index in the model's skill map. */
  skill: number;
  /** 0-based item index in the model's item map, when the bank has items. */
  item?: number;
  correct: boolean | number;
  /** When the answer was given (any monotonic number, e.g. epoch milliseconds). */
  at: number;
}

function checkIndex(value: number, what: string, row: AttemptRow): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 2) {
    throw new Error(`attempt of student ${row.student} at ${row.at}: ${what} ${value} is not a 0-based index`);
  }
}

/**
 * Groups attempt rows into one time-ordered sequence per student (students in order of first
 * appearance; equal times keep their input order). Items are kept only when every row has one,
 * since a sequence's items must cover all of its steps.
 */
export function sequencesFromAttempts(rows: readonly AttemptRow[]): StudentSequence[] {
  const byStudent = new Map<string, AttemptRow[]>();
  let allHaveItems = rows.length > 0;
  for (const row of rows) {
    checkIndex(row.skill, 'skill', row);
    if (row.item === undefined) allHaveItems = false;
    else checkIndex(row.item, 'item', row);
    let list = byStudent.get(row.student);
    if (!list) byStudent.set(row.student, (list = []));
    list.push(row);
  }
  const out: StudentSequence[] = [];
  for (const [student, list] of byStudent) {
    // Array.prototype.sort is stable, so ties in time keep the order the rows came in.
    list.sort((a, b) => a.at - b.at);
    const seq: StudentSequence = {
      student,
      skills: Int32Array.from(list, (r) => r.skill),
      correct: Uint8Array.from(list, (r) => (r.correct ? 1 : 0)),
    };
    if (allHaveItems) seq.items = Int32Array.from(list, (r) => r.item as number);
    out.push(seq);
  }
  return out;
}
