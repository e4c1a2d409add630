import type { LocalizedText } from '../item';
import { ITEM_KINDS } from '../item';
import { escapeHtml } from '../richtext';
import { BankBuilder, nextTurn, type ParsedBank } from './model';

interface Row {
  /** Line where the record starts (a quoted cell may span lines). */
  line: number;
  cells: string[];
}

/** Characters tokenised between two turns of the event loop. */
const CSV_STEP = 64 * 1024;

/** RFC 4180 records, with `,` or `;` as the separator (spreadsheets in Indonesian use `;`). */
async function records(source: string): Promise<{ rows: Row[]; error?: { line: number } }> {
  const firstLine = source.split('\n', 1)[0] ?? '';
  const sep = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows: Row[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let quoteLine = 0;
  // Whether the cell is only blanks so far: kept as we go, since testing the cell at every quote
  // would make a cell of many quotes quadratic.
  let blank = true;
  for (let i = 0, turn = CSV_STEP; i < source.length; i++) {
    if (i >= turn) {
      await nextTurn();
      turn = i + CSV_STEP;
    }
    const c = source[i]!;
    if (quoted) {
      if (c === '"' && source[i + 1] === '"') {
        cell += '"';
        blank = false;
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
        blank &&= c.trim() === '';
      }
    } else if (c === '"' && blank) {
      quoted = true;
      quoteLine = line;
      cell = '';
    } else if (c === sep) {
      cells.push(cell);
      cell = '';
      blank = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && source[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((x) => x.trim() !== '')) rows.push({ line: start, cells });
      cells = [];
      cell = '';
      blank = true;
      line++;
      start = line;
    } else {
      cell += c;
      blank &&= c.trim() === '';
    }
  }
  if (quoted) return { rows, error: { line: quoteLine } };
  cells.push(cell);
  if (cells.some((x) => x.trim() !== '')) rows.push({ line: start, cells });
  return { rows };
}

const COLUMNS = ['code', 'skill', 'prerequisites', 'kind', 'difficulty', 'stem', 'choices', 'feedback', 'answer', 'tolerance', 'unit', 'hints', 'solution'] as const;
type Column = (typeof COLUMNS)[number];
const TEXT_COLUMNS: Column[] = ['stem', 'choices', 'feedback', 'hints', 'solution'];

/**
 * Reads the CSV format documented in the README: one item per row, a header naming the columns; text
 * columns may be given per language (`stem:id`, `stem:en`), lists are separated by `|`, correct
 * choices are marked with a leading `*`, and an optional `difficulty` column holds the teacher's tag.
 * Text is plain (HTML is escaped) with TeX between `\( \)`.
 */
export async function readCsv(source: string, language: string): Promise<ParsedBank> {
  const b = new BankBuilder(language);
  const { rows, error } = await records(source.replace(/^\uFEFF/, ''));
  if (error) {
    b.refuse(error.line, 'csv_unclosed_quote');
    return b.bank;
  }
  const header = rows.shift();
  if (!header) {
    b.refuse(1, 'csv_empty');
    return b.bank;
  }
  // column index by name and language
  const columns = new Map<string, number>();
  const languages = new Set<string>();
  for (const [i, raw] of header.cells.entries()) {
    const m = /^\s*([a-z]+)(?::([a-z]{2,3}))?\s*$/i.exec(raw);
    const name = m?.[1]?.toLowerCase() as Column | undefined;
    if (!m || !name || !COLUMNS.includes(name) || (m[2] && !TEXT_COLUMNS.includes(name))) {
      b.refuse(header.line, 'csv_unknown_column', { column: raw.trim() || `#${i + 1}` });
      continue;
    }
    const lang = m[2]?.toLowerCase() ?? language;
    if (TEXT_COLUMNS.includes(name)) languages.add(lang);
    columns.set(`${name}:${TEXT_COLUMNS.includes(name) ? lang : ''}`, i);
  }
  for (const required of ['skill', 'kind'] as const) if (!columns.has(`${required}:`)) b.refuse(header.line, 'csv_missing_column', { column: required });
  if (![...languages].some((l) => columns.has(`stem:${l}`))) b.refuse(header.line, 'csv_missing_column', { column: 'stem' });
  if (b.bank.report.some((r) => r.outcome === 'refused')) return b.bank;
  const langs = [...languages].filter((l) => columns.has(`stem:${l}`));

  for (const row of rows) {
    await b.step();
    const cell = (name: Column, lang = '') => (row.cells[columns.get(`${name}:${lang}`) ?? -1] ?? '').trim();
    const list = (s: string) => (s === '' ? [] : s.split('|').map((x) => x.trim()));
    const text = (s: string): string => escapeHtml(s).replace(/\n/g, '<br>');
    const perLang = (name: Column): Record<string, string[]> => Object.fromEntries(langs.map((l) => [l, list(cell(name, l))]));
    const localized = (name: Column): LocalizedText | undefined => {
      const given = langs.filter((l) => cell(name, l));
      return given.length ? Object.fromEntries(given.map((l) => [l, `<p>${text(cell(name, l))}</p>`])) : undefined;
    };
    const kind = cell('kind').toLowerCase();
    const name = cell('code') || `row ${row.line}`;
    if (!(ITEM_KINDS as string[]).includes(kind)) {
      b.refuse(row.line, 'csv_bad_kind', { name, kind, kinds: ITEM_KINDS.join(', ') });
      continue;
    }
    const skillNames = list(cell('skill'));
    if (!skillNames.length) {
      b.refuse(row.line, 'csv_no_skill', { name });
      continue;
    }
    const skills = skillNames.map((s) => b.skill(s));
    for (const pre of list(cell('prerequisites'))) b.prerequisite(skills[0]!, b.skill(pre));
    const hints = perLang('hints');
    const hintCount = Math.max(0, ...Object.values(hints).map((h) => h.length));
    const rowLangs = langs.filter((l) => cell('stem', l));
    const common = {
      v: 1, languages: rowLangs, stem: localized('stem') ?? {},
      hints: Array.from({ length: hintCount }, (_, i) => Object.fromEntries(rowLangs.filter((l) => hints[l]![i]).map((l) => [l, `<p>${text(hints[l]![i]!)}</p>`]))),
      ...(localized('solution') ? { solution: localized('solution') } : {}),
    };
    const answer = cell('answer');
    const difficulty = cell('difficulty');
    switch (kind) {
      case 'multichoice':
      case 'multiresponse': {
        const choices = perLang('choices');
        const feedback = perLang('feedback');
        const first = choices[langs[0]!]!;
        if (langs.some((l) => choices[l]!.length !== first.length)) {
          b.refuse(row.line, 'csv_choices_mismatch', { name });
          break;
        }
        b.item(row.line, name, {
          ...common, kind,
          choices: first.map((c, i) => {
            const fbLangs = langs.filter((l) => feedback[l]![i]);
            return {
              key: 'abcdefghijklmnopqrstuvwxyz'[i] ?? `c${i}`, correct: c.startsWith('*'),
              text: Object.fromEntries(langs.map((l) => [l, text(choices[l]![i]!.replace(/^\*\s*/, ''))])),
              ...(fbLangs.length ? { feedback: Object.fromEntries(fbLangs.map((l) => [l, `<p>${text(feedback[l]![i]!)}</p>`])) } : {}),
            };
          }),
        }, skills, difficulty);
        break;
      }
      case 'truefalse': {
        const truth = /^(true|benar|b|t|1|ya|yes)$/i.test(answer);
        if (!truth && !/^(false|salah|s|f|0|tidak|no)$/i.test(answer)) {
          b.refuse(row.line, 'csv_bad_truefalse', { name, value: answer });
          break;
        }
        b.item(row.line, name, { ...common, kind, answer: truth, ...(localized('feedback') ? { generalFeedback: localized('feedback') } : {}) }, skills, difficulty);
        break;
      }
      case 'numeric': {
        const value = Number(answer.replace(',', '.'));
        const tolerance = Number((cell('tolerance') || '0').replace(',', '.'));
        if (answer === '' || !Number.isFinite(value) || !Number.isFinite(tolerance) || tolerance < 0) {
          b.refuse(row.line, 'bad_number', { name, value: answer || cell('tolerance') });
          break;
        }
        const unit = cell('unit');
        b.item(row.line, name, {
          ...common, kind, answers: [{ value, tolerance, correct: true }],
          units: unit ? [{ name: unit, multiplier: 1 }] : [], unitRequired: false,
          ...(localized('feedback') ? { generalFeedback: localized('feedback') } : {}),
        }, skills, difficulty);
        break;
      }
      case 'shortanswer':
        b.item(row.line, name, {
          ...common, kind, caseSensitive: false,
          answers: list(answer).map((a) => ({ match: a.includes('*') ? 'wildcard' : 'exact', text: a, correct: true })),
          ...(localized('feedback') ? { generalFeedback: localized('feedback') } : {}),
        }, skills, difficulty);
        break;
    }
  }
  return b.bank;
}
