import { StudentSequence } from '../types';
import { checkSameLength, parseIds, parseResponses } from './fields';
import { headerStudent, lineRecords } from './records';

/**
 * 4-line format (AKT `*_pid`): per student `index,user_id`, the item (problem) ids, the skill ids,
 * the 0/1 responses. The AKT files number items and skills from 1.
 */
const FOUR_LINE_ROLES = ['header', 'item ids', 'skill ids', 'responses'] as const;

export function parseFourLine(text: string, file: string, base: 0 | 1 = 1): StudentSequence[] {
  const out: StudentSequence[] = [];
  for (const record of lineRecords(text, file, FOUR_LINE_ROLES)) {
    const items = parseIds(record.lines[1], record.at[1], 'item ids', base);
    const skills = parseIds(record.lines[2], record.at[2], 'skill ids', base);
    const correct = parseResponses(record.lines[3], record.at[3]);
    checkSameLength('item ids', items.length, record.at[1], correct.length, record.at[3]);
    checkSameLength('skill ids', skills.length, record.at[2], correct.length, record.at[3]);
    out.push({ student: headerStudent(record, correct.length), skills, items, correct });
  }
  return out;
}
