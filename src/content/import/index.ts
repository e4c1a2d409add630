import { readCsv } from './csv';
import { readGift } from './gift';
import { readMoodleXml } from './moodleXml';
import type { ParsedBank } from './model';

export type BankFormat = 'moodle-xml' | 'gift' | 'csv';

/** The format of an uploaded file, from its name and, failing that, its first characters. */
export function detectFormat(fileName: string, text: string): BankFormat | undefined {
  const ext = /\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'xml') return 'moodle-xml';
  if (ext === 'gift') return 'gift';
  if (ext === 'csv') return 'csv';
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<?xml') || head.startsWith('<quiz')) return 'moodle-xml';
  if (ext === 'txt' && /[{}]/.test(head)) return 'gift';
  return undefined;
}

/**
 * Reads a bank file of the given format; the items are in `language` (the file does not say). A large
 * file is read in steps, giving the event loop a turn between them.
 */
export function readBankFile(format: BankFormat, text: string, language: string): Promise<ParsedBank> {
  const source = text.replace(/^\uFEFF/, '');
  if (format === 'moodle-xml') return readMoodleXml(source, language);
  if (format === 'gift') return readGift(source, language);
  return readCsv(source, language);
}
