import { StudentSequence } from '../types';
import { checkSameLength, parseIds, parseResponses } from './fields';
import { headerStudent, lineRecords } from './records';

/**
 * 3-line format (DKVMN, AKT without item ids, Piech DKT, DKT+): per student a header (length or
 * `index,user_id`), the skill ids, the 0/1 responses. Ids are 1-based in DKVMN/AKT files and 0-based
 * in Piech/DKT+ files, so the caller says which.
 */
const THREE_LINE_ROLES = ['header', 'skill ids', 'responses'] as const;

export function parseThreeLine(text: string, file: string, base: 0 | 1): StudentSequence[] {
  const out: StudentSequence[] = [];
  for (const record of lineRecords(text, file, THREE_LINE_ROLES)) {
    const skills = parseIds(record.lines[1], record.at[1], 'skill ids', base);
    const correct = parseResponses(record.lines[2], record.at[2]);
    checkSameLength('skill ids', skills.length, record.at[1], correct.length, record.at[2]);
    out.push({ student: headerStudent(record, correct.length), skills, correct });
  }
  return out;
}
