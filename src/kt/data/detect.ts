/** Which of the three on-disk formats a file is in. */
export type DataFormat = 'three-line' | 'four-line' | 'pykt';

/** How many records are probed: enough to outvote one malformed record, cheap on big files. */
const PROBE_RECORDS = 40;

function fieldCount(line: string): number {
  return line.split(',').filter((f) => f.trim() !== '').length;
}

function isResponseLine(line: string): boolean {
  return line.split(',').every((f) => f.trim() === '' || f.trim() === '0' || f.trim() === '1');
}

/**
 * Counts how often the start of the file breaks the shape of `size`-line records: a header of 1–2
 * fields, equally long id/response lines, a last line of 0/1 only, no partial record at the end.
 */
function shapeViolations(lines: string[], size: number, wholeFile: boolean): number {
  let violations = 0;
  let start = 0;
  for (; start + size <= lines.length; start += size) {
    const header = fieldCount(lines[start]);
    if (header < 1 || header > 2) violations++;
    const lengths = lines.slice(start + 1, start + size).map(fieldCount);
    if (lengths.some((n) => n !== lengths[0])) violations++;
    if (!isResponseLine(lines[start + size - 1])) violations++;
  }
  if (wholeFile && start < lines.length) violations++;
  return violations;
}

/**
 * Tells the format from the text: pyKT by its `fold,` header, otherwise whichever of the 3- and
 * 4-line record shapes the first records fit better (3-line on a tie, the common case). Strict
 * parsing afterwards reports exactly where a malformed file goes wrong.
 */
export function detectFormat(text: string): DataFormat {
  const all = text.split('\n').filter((l) => l.trim() !== '');
  if (all.length && /^\s*"?fold"?\s*,/.test(all[0])) return 'pykt';
  // 12 lines hold a whole number of both record sizes, so the probe never ends mid-record.
  const probe = all.slice(0, PROBE_RECORDS * 12);
  const wholeFile = probe.length === all.length;
  return shapeViolations(probe, 4, wholeFile) < shapeViolations(probe, 3, wholeFile) ? 'four-line' : 'three-line';
}
