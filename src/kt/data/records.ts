import { DataFormatError } from './errors';
import { LineRef, splitFields } from './fields';

/** One record of a line-based format: `roles.length` consecutive non-blank lines. */
export interface LineRecord {
  /** 1-based position of the record in the file. */
  index: number;
  lines: string[];
  at: LineRef[];
}

/**
 * Cuts a file of fixed-size line records (3-line, 4-line) into records. Blank lines may separate
 * records, but not interrupt one; a record cut short by the end of the file is an error.
 * `roles` names each line of a record, for error messages.
 */
export function* lineRecords(text: string, file: string, roles: readonly string[]): Generator<LineRecord> {
  const lines = text.split('\n');
  let current: LineRecord | null = null;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      if (current) {
        throw new DataFormatError(file, i + 1, `blank line inside the record that starts at line ${current.at[0].line} (expected ${roles[current.lines.length]})`);
      }
      continue;
    }
    if (!current) current = { index: ++count, lines: [], at: [] };
    current.lines.push(line);
    current.at.push({ file, line: i + 1 });
    if (current.lines.length === roles.length) {
      yield current;
      current = null;
    }
  }
  if (current) {
    const last = current.at[current.at.length - 1].line;
    throw new DataFormatError(file, last, `truncated record: the record that starts at line ${current.at[0].line} has ${current.lines.length} of its ${roles.length} lines (missing ${roles.slice(current.lines.length).join(', ')})`);
  }
}

/**
 * Reads a record header, either the sequence length (checked against the record) or
 * `student_index,user_id`, and returns the student key: the user id, else the record number.
 */
export function headerStudent(record: LineRecord, steps: number): string {
  const at = record.at[0];
  const fields = splitFields(record.lines[0], at, 'header');
  if (fields.length === 1) {
    if (!/^\d+$/.test(fields[0])) throw new DataFormatError(at.file, at.line, `header '${fields[0]}' is not a sequence length`);
    if (Number(fields[0]) !== steps) {
      throw new DataFormatError(at.file, at.line, `header says ${fields[0]} steps but the record has ${steps} responses`);
    }
    return String(record.index);
  }
  if (fields.length === 2) return fields[1];
  throw new DataFormatError(at.file, at.line, `header has ${fields.length} fields; expected a sequence length or 'index,user_id'`);
}
