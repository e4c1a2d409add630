import * as fs from 'fs';
import { StudentSequence } from '../types';
import { DataFormatError } from './errors';
import { LineRef, checkSameLength, parseIds, parseResponses } from './fields';

/**
 * pyKT CSV (`train_valid.csv`, `test.csv`): a header naming at least `fold,uid,concepts,responses`
 * (optionally `questions` and others such as `cidxs`), then one student a row with quoted,
 * comma-separated, 0-based lists. `fold` is 0–4 in train_valid.csv and -1 in test.csv.
 */
export interface PyktRow {
  fold: number;
  sequence: StudentSequence;
}

const REQUIRED_COLUMNS = ['fold', 'uid', 'concepts', 'responses'] as const;

/** Splits one CSV line into fields, honouring double quotes (with "" as an escaped quote). */
function csvFields(line: string, at: LineRef): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new DataFormatError(at.file, at.line, 'a quoted field is not closed');
  fields.push(field.replace(/\r$/, ''));
  return fields;
}

export function parsePykt(text: string, file: string): PyktRow[] {
  const lines = text.split('\n');
  const headerAt = { file, line: 1 };
  const header = csvFields(lines[0] ?? '', headerAt).map((h) => h.trim());
  const column = new Map(header.map((name, i) => [name, i]));
  const missing = REQUIRED_COLUMNS.filter((name) => !column.has(name));
  if (missing.length) {
    throw new DataFormatError(file, 1, `pyKT header lacks column(s) ${missing.join(', ')} (found: ${header.join(',')})`);
  }
  const col = (name: string): number => column.get(name) as number;
  const rows: PyktRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const at = { file, line: i + 1 };
    const f = csvFields(lines[i], at);
    if (f.length !== header.length) {
      throw new DataFormatError(file, at.line, `${f.length} fields but the header has ${header.length}`);
    }
    const foldText = f[col('fold')].trim();
    if (!/^-?\d+$/.test(foldText)) throw new DataFormatError(file, at.line, `fold '${foldText}' is not a whole number`);
    const skills = parseIds(f[col('concepts')], at, 'concepts', 0);
    const correct = parseResponses(f[col('responses')], at);
    checkSameLength('concepts', skills.length, at, correct.length, at);
    const sequence: StudentSequence = { student: f[col('uid')].trim(), skills, correct };
    const questions = column.has('questions') ? f[col('questions')].trim() : 'NA';
    if (questions !== 'NA' && questions !== '') {
      sequence.items = parseIds(questions, at, 'questions', 0);
      checkSameLength('questions', sequence.items.length, at, correct.length, at);
    }
    rows.push({ fold: Number(foldText), sequence });
  }
  return rows;
}

export function readPykt(file: string): PyktRow[] {
  return parsePykt(fs.readFileSync(file, 'utf8'), file);
}
