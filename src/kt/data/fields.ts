import { DataFormatError } from './errors';

/** Where a line came from, for error messages. */
export interface LineRef {
  file: string;
  /** 1-based line number in the file. */
  line: number;
}

/** Largest id that still fits the Int32Array the sequences are stored in. */
const MAX_ID = 2 ** 31 - 2;

/**
 * Splits a comma-separated line into its fields. One trailing comma is tolerated because the Piech
 * and DKVMN synthetic files end every list with one; any other empty field is an error.
 */
export function splitFields(text: string, at: LineRef, what: string): string[] {
  const fields = text.trim().split(',');
  if (fields.length > 1 && fields[fields.length - 1].trim() === '') fields.pop();
  for (let i = 0; i < fields.length; i++) {
    fields[i] = fields[i].trim();
    if (fields[i] === '') throw new DataFormatError(at.file, at.line, `${what}: field ${i + 1} is empty`);
  }
  return fields;
}

function parseInteger(field: string, at: LineRef, what: string, index: number): number {
  if (!/^-?\d+$/.test(field)) {
    throw new DataFormatError(at.file, at.line, `${what}: field ${index + 1} ('${field}') is not a whole number`);
  }
  return Number(field);
}

/** Parses a list of ids written `base`-based into 0-based ids, rejecting ids below the base. */
export function parseIds(text: string, at: LineRef, what: string, base: 0 | 1): Int32Array {
  const fields = splitFields(text, at, what);
  const ids = new Int32Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const id = parseInteger(fields[i], at, what, i);
    if (id < base || id > MAX_ID) {
      throw new DataFormatError(at.file, at.line, `${what}: id ${id} (field ${i + 1}) is out of range for ${base}-based ids`);
    }
    ids[i] = id - base;
  }
  return ids;
}

/** Parses a list of responses, each 0 (wrong) or 1 (correct). */
export function parseResponses(text: string, at: LineRef, what = 'responses'): Uint8Array {
  const fields = splitFields(text, at, what);
  const out = new Uint8Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] !== '0' && fields[i] !== '1') {
      throw new DataFormatError(at.file, at.line, `${what}: field ${i + 1} ('${fields[i]}') is not 0 or 1`);
    }
    out[i] = fields[i] === '1' ? 1 : 0;
  }
  return out;
}

/** Throws unless the id list on `at` has as many entries as the responses on `responsesAt`. */
export function checkSameLength(what: string, count: number, at: LineRef, responses: number, responsesAt: LineRef): void {
  if (count !== responses) {
    throw new DataFormatError(at.file, at.line, `${what}: ${count} entries but the responses on line ${responsesAt.line} have ${responses}`);
  }
}
